"""Exports selected by usefulness: critique SFT of helpful critiques, DPO helpful over harmful, KTO labels."""

from __future__ import annotations

import json
import os
import re

import pytest

from annotation.core.model import InvalidValue, Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import export_project
from annotation.revision.runs import RevisionPlan, run_revision
from storage import queries
from storage.db import session
from storage.tables import utcnow
from tests.utils.critic_data import register_stub_price, stub_critic
from tests.utils.openai_stub import OpenAIStub, prompt_text
from tests.utils.revision_data import RIGHT, make_revision_project

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def by_review(body) -> str:
    """A reviser that believes the review: told "wrong", it changes the answer (fixing a wrong one, breaking a
    right one); told "correct", it keeps it."""
    text = prompt_text(body)
    i = int(re.search(r"What is (\d+) \+", text).group(1))
    right = i in RIGHT
    if "The solution is wrong." in text:
        return f"\\boxed{{{4 * i + 2 if right else 4 * i}}}"
    return f"\\boxed{{{4 * i if right else 4 * i + 1}}}"


@pytest.fixture
def revised(sqlite_engine):
    make_revision_project(sqlite_engine)
    with session(sqlite_engine) as s:  # carol raises a false alarm on trace 0, which is right
        trace = queries.traces_in(s, project_id=1)[0].id
        carol = Judgment(Source("human", "carol"), first_error=0, steps=[StepLabel(-1, "Adds wrongly.")])
        queries.insert_judgments(s, rows=[judgment_row(carol, trace_id=trace, now=utcnow())])
        s.commit()
    register_stub_price()
    with OpenAIStub(by_review) as stub:
        reviser = stub_critic(sqlite_engine, stub.api_base, name="reviser")
        for source in ("reference", "human:*", "model:critic"):
            run_revision(sqlite_engine, RevisionPlan("revise", source, reviser, show="verdict"))
    return sqlite_engine


def exported(engine, tmp_path, fmt: str, **options) -> list[dict]:
    out = tmp_path / f"{fmt}.jsonl"
    export_project(engine, "revise", fmt, out, ExportOptions(usefulness="reviser/verdict", **options))
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_critique_sft_of_helpful_critiques_only(revised, tmp_path):
    records = exported(revised, tmp_path, "critique-sft", source="model:critic")
    # The model missed trace 3's error: its critique left the solution wrong, so it is not taught.
    problems = [r["messages"][0]["content"] for r in records]
    assert len(records) == 5 and not any("What is 3 +" in p for p in problems)


def test_dpo_prefers_a_helpful_critique_over_a_harmful_one_on_the_same_trace(revised, tmp_path):
    pairs = exported(revised, tmp_path, "dpo")
    assert pairs and all("What is 0 +" in p["prompt"] for p in pairs)  # only trace 0 has both
    assert {p["rejected"] for p in pairs} == {
        "Paragraph 0 is incorrect. Adds wrongly.\n\nThe earliest error is in paragraph 0.\n\n\\boxed{0}"
    }
    assert all(p["chosen"].endswith("\\boxed{-1}") for p in pairs)


def test_kto_labels_each_critique_helpful_or_harmful(revised, tmp_path):
    records = exported(revised, tmp_path, "kto")
    assert sum(r["label"] for r in records) > 0 and [r["label"] for r in records].count(False) == 1
    assert all(
        r["label"] == (not r["completion"].endswith("\\boxed{0}")) for r in records if "What is 0 +" in r["prompt"]
    )


def test_usefulness_is_checked(revised, tmp_path):
    with pytest.raises(InvalidValue, match="usefulness selects critiques for critique-sft, dpo, kto"):
        exported(revised, tmp_path, "trl-stepwise")
    with pytest.raises(InvalidValue, match="'everything' is not one of"):
        export_project(revised, "revise", "kto", tmp_path / "x.jsonl", ExportOptions(usefulness="reviser/everything"))


def test_an_annotator_gets_only_the_labels_the_visibility_rule_shows(revised, tmp_path):
    """Graded against the reference answer, usefulness is hidden where the reference fields are: on a
    quality-control trace and in a blind project, an annotator's export carries no label."""
    from annotation.accounts.users import Account, create_user, set_members
    from annotation.exporting.formats.stream import iter_items
    from annotation.exporting.usefulness import with_usefulness
    from annotation.judgments.visibility import project_view
    from storage.tables import Project

    create_user(revised, username="ann", password="a-long-password", role="annotator")
    set_members(revised, project="revise", usernames=["ann"])

    def annotators_kto() -> list[dict]:
        view = project_view(revised, Account(username="ann", role="annotator"), "revise")
        out = tmp_path / "ann.jsonl"
        export_project(revised, "revise", "kto", out, ExportOptions(usefulness="reviser/verdict"), view=view)
        return [json.loads(line) for line in out.read_text().splitlines()]

    with session(revised) as s:
        first = queries.traces_in(s, project_id=1)[0]
        first.qc = True
        s.add(first)
        s.commit()
    mine = annotators_kto()
    everyone = exported(revised, tmp_path, "kto")
    assert mine and len(mine) < len(everyone)
    assert "What is 0 +" in str(everyone) and "What is 0 +" not in str(mine)
    with session(revised) as s:
        project = s.get(Project, 1)
        project.blind = True
        s.add(project)
        s.commit()
    # Blind: the model's critiques are still the annotator's to see, but not whether they helped (graded against the
    # reference answer, which a blind project hides).
    view = project_view(revised, Account(username="ann", role="annotator"), "revise")
    items = list(with_usefulness(revised, iter_items(revised, 1, view=view), "reviser/verdict", view))
    assert [i.usefulness for i in items] == [{}] * 7 and "model:critic" in items[1].judgments
    assert annotators_kto() == [] and exported(revised, tmp_path, "kto")
