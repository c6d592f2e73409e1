"""Imported labels merged into a judgment the source already has (review of issue 16, finding 3)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from annotation.core.model import NO_ERROR, InvalidValue, Judgment, Source, StepLabel
from annotation.importing.merging import merge

BOB = Source("human", "bob")


def bobs() -> Judgment:
    return Judgment(
        BOB,
        first_error=2,
        steps=[StepLabel(1, "fine", ["a"]), StepLabel(0), StepLabel(-1, "wrong sum", ["calc"], correction="= 7")],
        critique="overall",
        solution_correct=False,
        status="draft",
        time_spent_s=12.0,
        extra={"note": "kept"},
    )


def test_only_what_the_import_carries_replaces_what_was_there():
    incoming = Judgment(BOB, steps=[StepLabel(critique="new 1"), StepLabel(), StepLabel(critique="new 3")])
    merged = merge(bobs(), incoming, 3)
    assert [s.critique for s in merged.steps] == ["new 1", None, "new 3"]  # the column, as the file gives it
    assert [s.verdict for s in merged.steps] == [1, 0, -1] and merged.steps[2].tags == ["calc"]
    assert merged.steps[2].correction == "= 7"
    assert (merged.first_error, merged.critique, merged.status, merged.time_spent_s) == (2, "overall", "draft", 12.0)
    assert merged.extra == {"note": "kept"}


def test_verdicts_given_replace_the_column_and_their_first_error_comes_with_them():
    incoming = Judgment(BOB, first_error=NO_ERROR, steps=[StepLabel(1), StepLabel(1), StepLabel(1)])
    merged = merge(bobs(), replace(incoming, solution_correct=True), 3)
    assert [s.verdict for s in merged.steps] == [1, 1, 1]
    assert (merged.first_error, merged.solution_correct) == (NO_ERROR, True)
    # Whether the solution is correct goes with the first error: bob's False does not stay beside "no error".
    assert merge(bobs(), incoming, 3).solution_correct is None
    assert [s.critique for s in merged.steps] == ["fine", None, "wrong sum"]


def test_a_merge_that_contradicts_itself_is_refused():
    with pytest.raises(InvalidValue, match="step 3 would be wrong before the first error, step 4") as caught:
        merge(bobs(), Judgment(BOB, first_error=3), 4)
    assert caught.value.field == "first_error"
    verdicts = Judgment(BOB, steps=[StepLabel(1), StepLabel(1), StepLabel(1)])  # no first error of their own
    with pytest.raises(InvalidValue, match="the first error would be step 3, whose verdict is \\+1") as caught:
        merge(bobs(), verdicts, 3)
    assert caught.value.field == "step_verdicts"
    with pytest.raises(InvalidValue, match="step 3 would be wrong in a judgment that says there is no error") as caught:
        merge(bobs(), Judgment(BOB, first_error=NO_ERROR), 3)
    assert caught.value.field == "first_error"


def test_a_failed_judgment_holds_nothing_to_keep():
    failed = Judgment(Source("model", "critic"), status="failed", extra={"error": "timeout"})
    incoming = Judgment(Source("model", "critic"), first_error=1)
    assert merge(failed, incoming, 3) == incoming


def test_the_import_writes_from_the_version_it_read(sqlite_engine, tmp_path, monkeypatch):
    """Not ANY_VERSION: a change made between reading and writing is refused, never overwritten."""
    import json

    from annotation.core.errors import ImportFailure
    from annotation.importing import files
    from annotation.importing.files import import_file
    from annotation.importing.formats.base import ConvertOptions
    from annotation.importing.formats.generic import FieldMapping
    from annotation.judgments.writing import StaleJudgment

    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"problem": "1 + 1?", "steps": ["2"], "c": ["ok"]}) + "\n", encoding="utf-8")
    mapping = FieldMapping(step_split="list", step_critiques="c")
    options = ConvertOptions(label_source=BOB, mapping=mapping)
    import_file(sqlite_engine, path, project="p", fmt="generic", options=options)
    path.write_text(json.dumps({"problem": "1 + 1?", "steps": ["2"], "c": ["better"]}) + "\n", encoding="utf-8")
    seen = []
    real = files.record

    def spy(s, writes, now=None):
        seen.extend(w.expected_version for w in writes)
        return real(s, writes, now=now)

    monkeypatch.setattr(files, "record", spy)
    assert import_file(sqlite_engine, path, project="p", fmt="generic", options=options).judgments_revised
    assert seen == [1]

    def stale(s, writes, now=None):
        raise StaleJudgment("the judgment of human:bob on trace 1 changed since you opened it")

    monkeypatch.setattr(files, "record", stale)
    with pytest.raises(ImportFailure, match="a judgment changed while the file was imported .*import it again"):
        import_file(sqlite_engine, path, project="p", fmt="generic", options=options)
