"""What critique SFT, DPO and KTO records say: the human's critiques, the boxed index, and which side wins."""

from __future__ import annotations

import pytest

from annotation.core.model import NO_ERROR, InvalidValue, Judgment, Source, StepLabel
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.formats.critique_text import critique_answer
from annotation.exporting.run import preview
from tests.utils import export_data


@pytest.fixture
def project(sqlite_engine):
    export_data.build(sqlite_engine)
    return sqlite_engine


def records(engine, fmt: str, **options):
    found, _ = preview(engine, export_data.PROJECT, fmt, ExportOptions(**options), n=100)
    return found


def test_critique_sft_shows_numbered_steps_and_judges_each_in_turn(project):
    sft = records(project, "critique-sft")
    by_problem = {r["messages"][0]["content"]: r["messages"][1]["content"] for r in sft}
    prompt, answer = next((p, a) for p, a in by_problem.items() if "Step 0 of trace 2." in p)

    assert "<paragraph_0>\nStep 0 of trace 2.\n</paragraph_0>" in prompt
    assert "<paragraph_3>\nStep 3 of trace 2.\n</paragraph_3>" in prompt
    assert "Problem 1: what is 1 + 1 <b>?</b>" in prompt  # text as written; the exporter does not render it
    assert answer.splitlines()[0] == "Paragraph 0 is correct. bob says step 0 is fine"
    assert "Paragraph 2 is incorrect (arithmetic). bob says step 2 is wrong: 2+2 is not 5" in answer
    assert "Paragraph 3" not in answer  # nothing after the first error
    assert answer.endswith("\\boxed{2}")
    no_error = next(a for p, a in by_problem.items() if "Step 0 of trace 0." in p)
    assert no_error.endswith("\\boxed{-1}") and "Paragraph 3 is correct." in no_error


def test_critique_answer_uses_the_judgment_critique_when_the_step_has_none():
    judgment = Judgment(Source("reference"), first_error=1, steps=[StepLabel(verdict=0)], critique="Wrong sum.")
    answer = critique_answer(judgment, 3)
    assert answer == (
        "Paragraph 0 is neutral: not wrong, but it does not move the solution forward.\n\n"
        "Paragraph 1 is incorrect. Wrong sum.\n\nThe earliest error is in paragraph 1.\n\n\\boxed{1}"
    )
    assert critique_answer(Judgment(Source("reference"), first_error=NO_ERROR), 1).endswith("\\boxed{-1}")


def test_dpo_prefers_the_human_critique_and_the_correction(project):
    pairs = records(project, "dpo")
    critique_pairs = [p for p in pairs if p["prompt"].startswith("The following is a problem")]
    corrections = [p for p in pairs if p["prompt"].startswith("[Problem]")]

    # Traces 3, 7 and 9: the critic put the first error elsewhere than the label.
    assert len(critique_pairs) == 3
    for pair in critique_pairs:
        assert pair["chosen"] != pair["rejected"]
        assert pair["rejected"].startswith("The critic read trace")
    trace3 = next(p for p in critique_pairs if "trace 3." in p["prompt"])
    assert trace3["chosen"].endswith("\\boxed{2}") and trace3["rejected"].endswith("\\boxed{1}")
    assert corrections == [
        {
            "prompt": "[Problem]\n\nProblem 0: what is 0 + 0 <b>?</b>\n\n[Solution so far]\n\n"
            "Step 1: Step 0 of trace 1.\n\nWrite step 2 of the solution.\n",  # the separator ends the prompt
            "chosen": export_data.CORRECTION,
            "rejected": "Step 1 of trace 1.",
        }
    ]
    only_corrections = records(project, "dpo", pairs=("correction",))
    assert only_corrections == corrections


def test_kto_judges_each_critic_critique_against_the_label(project):
    kto = records(project, "kto")
    verdicts = {r["prompt"].split("of trace ")[1].split(".")[0]: r["label"] for r in kto}

    assert verdicts["0"] is True and verdicts["2"] is True
    assert verdicts["3"] is False and verdicts["9"] is False
    assert verdicts["11"] is False  # no readable index counts as wrong
    assert "6" not in verdicts  # carol gave up: left out of training data


def test_preference_needs_a_human_checked_label(project):
    with pytest.raises(InvalidValue, match="non-model source"):
        records(project, "dpo", source="model:critic")


def test_text_preference_rows_end_their_prompt_with_the_separator(project):
    """Issue 16: text-mode DPO and KTO joined prompt and completion with no break (`...\\boxed{}.Paragraph 0`)."""
    for fmt in ("dpo", "kto"):
        rows = records(project, fmt)
        assert rows and all(r["prompt"].endswith("\\boxed{}.\n") or r["prompt"].endswith(".\n") for r in rows)
        completion = "chosen" if fmt == "dpo" else "completion"
        assert not any(r[completion].startswith("\n") for r in rows)  # the break belongs to the prompt
        spaced = records(project, fmt, separator="\n\n### Critique\n")
        assert all(r["prompt"].endswith("\n\n### Critique\n") for r in spaced)
        none = records(project, fmt, separator="")
        assert [r["prompt"] + "\n" for r in none] == [r["prompt"] for r in rows]
    chat = records(project, "dpo", conversational=True)
    assert all(not r["prompt"][-1]["content"].endswith("\n") for r in chat)  # chat templates separate turns


def test_separators_are_typed_with_escapes():
    from annotation.exporting.formats.base import separator_from, separator_spelled

    assert separator_from("\\n") == "\n" and separator_from("\\n\\n") == "\n\n" and separator_from("") == ""
    assert separator_from(" => ") == " => " and separator_from("a\\\\b") == "a\\b"
    assert separator_spelled("\n\t") == "\\n\\t"
    with pytest.raises(InvalidValue, match="not one of"):
        separator_from("\\x")
