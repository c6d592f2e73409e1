"""Labels made elsewhere attach to the traces already in a project (ProcessBench GSM8K from ../shared/datasets):
a human-judgment CSV adds judgments, never traces; per-step critiques, verdicts and corrections land on their steps."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import select

from annotation.core.errors import ImportFailure
from annotation.core.model import Judgment, Source
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from annotation.judgments.writing import JudgmentWrite, record
from annotation.projects.overview import project_overview
from annotation.projects.settings import load_settings, save_settings
from storage.db import session
from storage.tables import JudgmentRow, TraceRow

PROJECT = "pb"
COLUMNS = ["uid", "file", "question", "solution", "first_wrong", "critiques", "verdicts", "fixes"]
MAPPING = FieldMapping(
    id="uid",
    source_file="file",
    problem="question",
    steps="solution",
    first_error="first_wrong",
    step_critiques="critiques",
    step_verdicts="verdicts",
    corrections="fixes",
    step_split="list",
    first_error_base=1,
)


@pytest.fixture
def originals(sqlite_engine, datasets) -> list[dict]:
    import_file(sqlite_engine, datasets / "processbench" / "gsm8k.json", project=PROJECT)
    return json.loads((datasets / "processbench" / "gsm8k.json").read_text(encoding="utf-8"))


def alice_row(rec: dict, *, with_id: bool = True) -> list[str]:
    """Alice's labels for one ProcessBench record, as a team that labels elsewhere would write them."""
    n, label = len(rec["steps"]), rec["label"]
    first = n if label == -1 else label  # 0-based; n = none wrong
    verdicts = [1] * min(first, n) + ([-1] if label != -1 else []) + [None] * (n - min(first, n) - (label != -1))
    critiques = [f"alice on step {k + 1} of {rec['id']}" if k <= first else None for k in range(n)]
    fixes = [f"a better step {k + 1}" if k == label else None for k in range(n)]
    return [
        rec["id"] if with_id else "",
        "gsm8k.json" if with_id else "",
        # Whitespace as a spreadsheet may leave it: the same text still.
        "  " + rec["problem"].replace(" ", "  ") + " ",
        json.dumps([s + "  " for s in rec["steps"]]),
        "none" if label == -1 else str(label + 1),
        json.dumps(critiques),
        json.dumps(verdicts),
        json.dumps(fixes),
    ]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def alice(engine, path: Path, source: str = "human:alice", **mapping):
    options = ConvertOptions(
        label_source=Source.parse(source), mapping=replace(MAPPING, no_error_values=("none",), **mapping)
    )
    return import_file(engine, path, project=PROJECT, fmt="generic", options=options)


def judgments(engine, source: str) -> dict[str, JudgmentRow]:
    kind, name = source.split(":")
    with session(engine) as s:
        query = (
            select(TraceRow.record_id, JudgmentRow)
            .join(JudgmentRow, JudgmentRow.trace_id == TraceRow.id)
            .where(JudgmentRow.source_kind == kind, JudgmentRow.source_name == name)
        )
        return dict(s.exec(query).all())


def complete(engine) -> list[str]:
    with session(engine) as s:
        return sorted(s.exec(select(TraceRow.record_id).where(TraceRow.complete)).all())


def test_a_human_judgment_csv_adds_judgments_to_the_traces_not_traces(sqlite_engine, originals, tmp_path):
    rows = [alice_row(rec, with_id=i % 2 == 0) for i, rec in enumerate(originals[:30])]
    summary = alice(sqlite_engine, write_csv(tmp_path / "alice.csv", rows))

    assert summary.traces_added == 0 and summary.steps_added == 0
    assert (summary.matched_by_id, summary.matched_by_text) == (15, 15)
    assert summary.judgments_added == {"human:alice": 30}
    assert project_overview(sqlite_engine, PROJECT).traces == 400
    from annotation.importing.preview import summary_lines

    assert (
        "Labels attached to traces already in the project: 30 records matched "
        "(0 the same id and text, 15 by record id, 15 by problem and steps)"
    ) in summary_lines(summary)

    found = judgments(sqlite_engine, "human:alice")
    for rec in originals[:30]:
        j = found[rec["id"]]
        assert j.first_error == rec["label"] and j.status == "submitted"
        for k, step in enumerate(j.steps):
            assert step["critique"] == f"alice on step {k + 1} of {rec['id']}"  # on its own step
            assert step["verdict"] == (-1 if k == rec["label"] else 1)
        if rec["label"] != -1:
            assert j.steps[rec["label"]]["correction"] == f"a better step {rec['label'] + 1}"

    again = alice(sqlite_engine, tmp_path / "alice.csv")  # the same labels again: nothing changes
    assert again.judgments_added == {} and again.judgments_unchanged == 30 and again.traces_added == 0


def test_the_export_carries_the_attached_critiques(sqlite_engine, originals, tmp_path):
    alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [alice_row(originals[1])]))  # label 1
    from annotation.exporting.formats.base import ExportOptions
    from annotation.exporting.run import preview

    rows, _ = preview(sqlite_engine, PROJECT, "critique-sft", ExportOptions(source="human:alice"))
    answer = rows[0]["messages"][1]["content"]
    assert answer.startswith("Paragraph 0 is correct. alice on step 1 of gsm8k-1")
    assert "Paragraph 1 is incorrect. alice on step 2 of gsm8k-1" in answer


def test_an_id_naming_a_trace_with_other_text_is_refused_with_both_named(sqlite_engine, originals, tmp_path):
    row = alice_row(originals[3])
    row[2] = "A different problem altogether."
    path = write_csv(tmp_path / "alice.csv", [alice_row(originals[2]), row])
    with pytest.raises(ImportFailure) as caught:
        alice(sqlite_engine, path)
    message = str(caught.value)
    assert message.startswith("alice.csv, record 2, line 3, field 'uid': record id 'gsm8k-3' of gsm8k.json names")
    assert "trace 4 of the project (record 'gsm8k-3' of gsm8k.json)" in message
    assert judgments(sqlite_engine, "human:alice") == {}  # nothing written, not even record 1
    assert project_overview(sqlite_engine, PROJECT).traces == 400


def test_lists_not_as_long_as_the_steps_are_refused_naming_the_field(sqlite_engine, originals, tmp_path):
    row = alice_row(originals[0])
    row[5] = json.dumps(["only one"])
    with pytest.raises(ImportFailure, match=r"record 1, line 2, field 'critiques': 1 items for \d+ steps"):
        alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [row]))
    row = alice_row(originals[0])
    row[6] = json.dumps(["fine"] * len(originals[0]["steps"]))
    with pytest.raises(ImportFailure, match=r"field 'verdicts\[0\]': step 1: 'fine' is not a verdict"):
        alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [row]))
    row = alice_row(originals[1])  # label 1: step 2 is the first error
    row[6] = json.dumps([-1] + [None] * (len(originals[1]["steps"]) - 1))
    with pytest.raises(ImportFailure, match=r"field 'verdicts\[0\]': step 1 is wrong, but first_wrong says the first"):
        alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [row]))
    row = alice_row(originals[1])
    row[6] = json.dumps([1] * len(originals[1]["steps"]))  # step 2 is the first error, yet called correct
    with pytest.raises(ImportFailure, match=r"field 'verdicts\[1\]': step 2 is the first error in first_wrong, but"):
        alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [row]))
    row = alice_row(originals[1])  # a first error past the last step, with verdicts: named, not an IndexError
    row[4], row[6] = "99", json.dumps([1] * len(originals[1]["steps"]))
    with pytest.raises(ImportFailure, match=r"record 1, line 2, .*first error points at step 99"):
        alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [row]))


def test_verdicts_alone_give_the_first_error(sqlite_engine, originals, tmp_path):
    rows = [alice_row(rec) for rec in originals[:6]]
    summary = alice(sqlite_engine, write_csv(tmp_path / "alice.csv", rows), first_error=None)
    assert summary.judgments_added == {"human:alice": 6}
    found = judgments(sqlite_engine, "human:alice")
    assert {rec["id"]: found[rec["id"]].first_error for rec in originals[:6]} == {
        rec["id"]: rec["label"] for rec in originals[:6]
    }


def test_imported_judgments_count_toward_completion_and_a_complete_trace_still_takes_them(
    sqlite_engine, originals, tmp_path
):
    settings = load_settings(sqlite_engine, PROJECT)
    save_settings(sqlite_engine, PROJECT, replace(settings, judgments_per_trace=1))
    with session(sqlite_engine) as s:
        first = s.exec(select(TraceRow).where(TraceRow.record_id == "gsm8k-0")).one()
        record(s, [JudgmentWrite(first.id, Judgment(Source("human", "bob"), first_error=-1), by_worker=True)])
        s.commit()
    assert complete(sqlite_engine) == ["gsm8k-0"]

    summary = alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [alice_row(r) for r in originals[:3]]))
    assert summary.judgments_added == {"human:alice": 3}  # gsm8k-0 was complete: not refused
    assert complete(sqlite_engine) == ["gsm8k-0", "gsm8k-1", "gsm8k-2"]  # alice's count toward the others


def test_model_labels_attach_too_and_unmatched_records_are_new_traces(sqlite_engine, originals, tmp_path):
    known = alice_row(originals[5])
    new = alice_row(originals[6])
    new[0], new[1], new[2] = "mine-1", "", "A problem the project does not have."
    summary = alice(sqlite_engine, write_csv(tmp_path / "critic.csv", [known, new]), source="model:critic")
    assert (summary.matched_by_id, summary.traces_added) == (1, 1)
    assert summary.judgments_added == {"model:critic": 2}


def test_a_reference_import_keeps_adding_traces_as_before(sqlite_engine, originals, tmp_path):
    """Only labels under a named source attach: a reference file is a dataset of its own."""
    row = alice_row(originals[7], with_id=False)
    summary = alice(sqlite_engine, write_csv(tmp_path / "ref.csv", [row]), source="reference")
    assert summary.traces_added == 1 and summary.matched_by_text == 0


def test_empty_label_cells_make_no_judgment_and_a_later_row_still_labels_the_trace(sqlite_engine, originals, tmp_path):
    """Review of issue 16: a row with every label cell empty gave an empty submitted judgment, which completed the
    trace, and a later row for the same trace with real labels was dropped."""
    settings = load_settings(sqlite_engine, PROJECT)
    save_settings(sqlite_engine, PROJECT, replace(settings, judgments_per_trace=1))
    empty = alice_row(originals[0])
    empty[4:8] = ["", "", "", ""]
    only_empty = alice_row(originals[1])
    only_empty[4:8] = ["", json.dumps([None] * len(originals[1]["steps"])), "", ""]  # a list of nulls: nothing
    rows = [empty, only_empty, alice_row(originals[0])]
    summary = alice(sqlite_engine, write_csv(tmp_path / "alice.csv", rows), first_error=None)

    assert summary.judgments_added == {"human:alice": 1}
    found = judgments(sqlite_engine, "human:alice")
    assert set(found) == {"gsm8k-0"} and found["gsm8k-0"].first_error == originals[0]["label"]
    assert found["gsm8k-0"].steps[0]["critique"] == "alice on step 1 of gsm8k-0"  # the later row's labels
    assert complete(sqlite_engine) == ["gsm8k-0"]  # gsm8k-1 had only empty cells: still open
    assert not any("same trace" in w for w in summary.warnings)


def test_a_new_trace_given_twice_takes_the_labels_of_the_row_that_has_them(sqlite_engine, tmp_path):
    rows = [
        ["x-1", "", "What is 1 + 1?", '["1 + 1 = 2"]', "", "", "", ""],
        ["x-1", "", "What is 1 + 1?", '["1 + 1 = 2"]', "", '["fine"]', "[1]", ""],
    ]
    summary = alice(sqlite_engine, write_csv(tmp_path / "alice.csv", rows), first_error=None)
    assert summary.traces_added == 1 and summary.judgments_added == {"human:alice": 1}
    assert judgments(sqlite_engine, "human:alice")["x-1"].steps[0]["critique"] == "fine"
    assert summary.warnings == [
        "alice.csv, record 2: the same trace as record 1; imported once with this record's labels"
    ]


def unmapped(row: list[str]) -> list[str]:
    """The row as a labels file that does not say which file its ids belong to."""
    return [row[0], "", *row[2:]]


def test_an_id_without_its_file_still_names_its_trace_and_other_text_is_refused(sqlite_engine, originals, tmp_path):
    """Review of issue 16: without --map source_file a record's file was the labels file's own name, so its id
    matched no trace, and a record naming a trace by id with another text became a new trace silently."""
    spaced = unmapped(alice_row(originals[2]))  # the same text but for whitespace: found by its id
    summary = alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [spaced]))
    assert (summary.matched_by_id, summary.matched_by_text, summary.traces_added) == (1, 0, 0)

    other = unmapped(alice_row(originals[3]))
    other[3] = json.dumps([*originals[3]["steps"][:-1], "A last step of another trace."])
    with pytest.raises(ImportFailure) as caught:
        alice(sqlite_engine, write_csv(tmp_path / "bob.csv", [other]), source="human:bob")
    message = str(caught.value)
    assert message.startswith(
        "bob.csv, record 1, line 2, field 'uid': record id 'gsm8k-3' names trace 4 of the project"
    )
    assert "(record 'gsm8k-3' of gsm8k.json), but its step " in message and "differs from that trace's" in message
    assert "nothing was imported" in message
    assert judgments(sqlite_engine, "human:bob") == {} and project_overview(sqlite_engine, PROJECT).traces == 400


def test_an_id_several_files_share_needs_its_file_unless_the_text_says_which(sqlite_engine, originals, tmp_path):
    twins = [{**rec, "problem": rec["problem"] + " (a variant)"} for rec in originals[:2]]
    (tmp_path / "variants.json").write_text(json.dumps(twins), encoding="utf-8")
    import_file(sqlite_engine, tmp_path / "variants.json", project=PROJECT)  # the ids again, in another file

    summary = alice(sqlite_engine, write_csv(tmp_path / "alice.csv", [unmapped(alice_row(originals[0]))]))
    assert summary.matched_same + summary.matched_by_id == 1  # its text says which of the two
    assert judgments(sqlite_engine, "human:alice")["gsm8k-0"].steps[0]["critique"] == "alice on step 1 of gsm8k-0"

    row = unmapped(alice_row(originals[1]))
    row[2] = "Neither trace's problem."
    with pytest.raises(ImportFailure) as caught:
        alice(sqlite_engine, write_csv(tmp_path / "bob.csv", [row]), source="human:bob")
    message = str(caught.value)
    assert (
        "record id 'gsm8k-1' names 2 traces of the project (trace 2 of the project (record 'gsm8k-1' of gsm8k.json)"
        in message
    )
    assert "none with its problem and steps" in message and "--map source_file=FIELD" in message
    mapped = alice_row(originals[1])
    mapped[2] = "Neither trace's problem."
    with pytest.raises(ImportFailure, match=r"record id 'gsm8k-1' of gsm8k.json names trace 2 of the project .* its "):
        alice(sqlite_engine, write_csv(tmp_path / "bob.csv", [mapped]), source="human:bob")


def test_records_that_match_no_trace_are_new_traces_counted_and_warned_about(sqlite_engine, originals, tmp_path):
    new = unmapped(alice_row(originals[6]))
    new[0], new[2] = "mine-1", "A problem the project does not have."
    summary = alice(sqlite_engine, write_csv(tmp_path / "critic.csv", [alice_row(originals[5]), new]), "model:critic")
    assert (summary.matched_by_id, summary.traces_added, summary.new_traces_unmatched) == (1, 1, 1)
    from annotation.importing.preview import summary_lines

    assert "Records that matched no trace already in the project, added as new traces: 1" in summary_lines(summary)
    assert any(
        "1 records matched no trace already in the project and were added as new traces" in w for w in summary.warnings
    )


def test_labels_matched_to_a_merged_trace_by_its_current_steps_are_kept(sqlite_engine, tmp_path):
    """Review of issue 16: labels matched by text (or id) to a trace whose steps an annotator merged were dropped as
    "for the steps as imported", though they were matched against its current steps."""
    from annotation.workflow.restructure import restructure

    original = {"id": "m-1", "problem": "What is 2 + 3?", "steps": ["2 + 3", "= 5", "So 5."]}
    traces_file = tmp_path / "traces.jsonl"
    traces_file.write_text(json.dumps(original) + "\n", encoding="utf-8")
    options = ConvertOptions(mapping=FieldMapping(id="id", step_split="list"))
    import_file(sqlite_engine, traces_file, project="merged", fmt="generic", options=options)
    with session(sqlite_engine) as s:
        trace_id = s.exec(select(TraceRow.id)).one()
    restructure(sqlite_engine, trace_id=trace_id, username="ann", op="merge", step=0)
    with session(sqlite_engine) as s:
        now = list(s.get(TraceRow, trace_id).steps)
    assert len(now) == 2

    def labels(name: str, steps: list[str], with_id: bool) -> Path:
        with (tmp_path / name).open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "problem", "steps", "critiques"])
            writer.writerow(
                [
                    "m-1" if with_id else "",
                    original["problem"],
                    json.dumps(steps),
                    json.dumps(["ok"] * (len(steps) - 1) + ["no"]),
                ]
            )
        return tmp_path / name

    mapping = FieldMapping(id="id", step_split="list", step_critiques="critiques")
    for source, with_id in (("human:alice", False), ("human:bob", True)):
        options = ConvertOptions(label_source=Source.parse(source), mapping=mapping)
        summary = import_file(
            sqlite_engine, labels(f"{source}.csv", now, with_id), project="merged", fmt="generic", options=options
        )
        assert summary.judgments_added == {source: 1}, summary.warnings
        assert (summary.matched_by_id, summary.matched_by_text) == ((1, 0) if with_id else (0, 1))
    # The very record first imported carries labels for the steps as they were: still left out.
    options = ConvertOptions(label_source=Source.parse("human:carol"), mapping=mapping)
    summary = import_file(
        sqlite_engine,
        labels("carol.csv", original["steps"], True),
        project="merged",
        fmt="generic",
        options=options,
    )
    assert not summary.judgments_added and any("merged or split" in w for w in summary.warnings)


def bob_judges(engine, record_id: str) -> None:
    """Bob judges a trace on the Annotate page: first error step 2, verdicts, critiques, tags, time spent."""
    from annotation.core.model import StepLabel

    labels = [StepLabel(verdict=1, critique="bob: fine", tags=["ok"]), StepLabel(verdict=-1, tags=["calculation"])]
    judgment = Judgment(Source("human", "bob"), first_error=1, steps=labels, critique="bob overall", time_spent_s=30.0)
    with session(engine) as s:
        trace_id = s.exec(select(TraceRow.id).where(TraceRow.record_id == record_id)).one()
        record(s, [JudgmentWrite(trace_id, judgment, by_worker=True)])
        s.commit()


def test_a_partial_labels_file_merges_into_a_persons_judgment(sqlite_engine, originals, tmp_path):
    """Review of issue 16: a file holding only critiques replaced bob's verdicts and first error."""
    bob_judges(sqlite_engine, "gsm8k-1")
    row = alice_row(originals[1])  # label 1: critiques for steps 1 and 2
    summary = alice(
        sqlite_engine,
        write_csv(tmp_path / "bob.csv", [row]),
        source="human:bob",
        first_error=None,
        step_verdicts=None,
        corrections=None,
    )
    assert summary.judgments_revised == {"human:bob": 1}
    j = judgments(sqlite_engine, "human:bob")["gsm8k-1"]
    assert (j.first_error, j.critique, j.time_spent_s) == (1, "bob overall", 30.0)  # kept: the file has none
    assert [(s["verdict"], s["tags"]) for s in j.steps] == [(1, ["ok"]), (-1, ["calculation"])]
    assert [s["critique"] for s in j.steps] == ["alice on step 1 of gsm8k-1", "alice on step 2 of gsm8k-1"]
    from storage.queries import revisions_of

    with session(sqlite_engine) as s:
        earlier = revisions_of(s, judgment_id=j.id)
    assert earlier[-1].content["steps"][0]["critique"] == "bob: fine"  # the earlier state is kept
    assert earlier[-1].changed_by == "import:bob.csv"


def test_a_first_error_that_contradicts_the_verdicts_kept_is_refused(sqlite_engine, originals, tmp_path):
    bob_judges(sqlite_engine, "gsm8k-1")
    row = alice_row(originals[1])
    row[4] = "3"  # the first error at step 3, but bob's verdicts say step 2 is wrong
    with pytest.raises(ImportFailure) as caught:
        alice(
            sqlite_engine,
            write_csv(tmp_path / "bob.csv", [row]),
            source="human:bob",
            step_verdicts=None,
            step_critiques=None,
            corrections=None,
        )
    assert str(caught.value).startswith(
        "bob.csv, record 1, line 2, field 'first_wrong': step 2 would be wrong before the first error, step 3, "
        "merged into the judgment human:bob already has on this trace, which keeps its verdicts; nothing was imported"
    )
    assert judgments(sqlite_engine, "human:bob")["gsm8k-1"].first_error == 1
