"""The Import page: detect, preview, import with a summary; a bad file is named by line and changes nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from annotation.projects.demo import DEMO_PROJECT
from annotation.projects.overview import NoSuchProject, list_overviews, project_overview
from tests.pages.conftest import open_app

PAGE = "pages/import_data.py"
NEW_PROJECT = "New project…"


def processbench(i: int, label: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"gsm8k-{i}",
        "generator": "page-test-model",
        "problem": f"Tom has {i} apples and buys {i} more. How many now?",
        "steps": [f"Tom starts with {i} apples.", f"He buys {i} more.", f"So he has {2 * i} apples."],
        "final_answer_correct": label == -1,
        "label": label,
        **extra,
    }


def write_jsonl(path: Path, records: list[dict[str, Any]], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail, encoding="utf-8")
    return path


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def choose_new_project(at, name: str) -> None:
    at.selectbox(key="import_project").set_value(NEW_PROJECT).run()
    at.text_input(key="import_new_project").set_value(name).run()


def open_as_generic(path):
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()
    at.selectbox(key="import_format").set_value("generic").run()
    return at


def overview_counts(engine) -> list[tuple[str, int, dict[str, int]]]:
    return [(o.name, o.traces, o.judgments) for o in list_overviews(engine)]


def test_page_asks_for_a_file_first(database_url):
    at = open_app(PAGE)

    assert [t.value for t in at.title] == ["Import"]
    assert "Upload a file" in at.info[0].value
    assert at.file_uploader(key="import_upload").allowed_type == [".json", ".jsonl", ".csv", ".tsv", ".parquet"]
    assert not at.button


def test_processbench_file_by_server_path(database_url, db, tmp_path):
    path = write_jsonl(tmp_path / "gsm8k.jsonl", [processbench(i, label=[-1, 1, 0][i % 3]) for i in range(7)])
    at = open_app(PAGE)

    at.text_input(key="import_path").set_value(str(path)).run()

    assert at.selectbox(key="import_format").value == "auto-detect"
    assert "Detected format: ProcessBench (processbench)" in [s.value for s in at.success]
    assert at.text_input(key="import_as").value == "reference"
    shown = texts(at)
    assert "Tom has 0 apples and buys 0 more. How many now?" in shown
    assert "He buys 1 more." in shown
    assert "reference: no error" in shown  # record 1, label -1
    assert "reference: step 2" in shown  # record 2, label 1 (0-based)
    assert "reference: step 1" in shown  # record 3, label 0
    assert len(at.expander) == 5  # the preview shows the first five records

    choose_new_project(at, "GSM8K")
    at.button(key="import_run").click().run()

    assert not at.exception
    assert any("Imported gsm8k.jsonl (processbench) into project GSM8K" in s.value for s in at.success)
    shown = texts(at)
    assert "Traces: 7 added, 0 already present" in shown
    assert "Steps added: 21" in shown
    assert "Judgments added: 7 reference" in shown
    overview = project_overview(db, "GSM8K")
    assert (overview.traces, overview.steps) == (7, 21)
    assert overview.judgments["reference"] == 7
    assert overview.reference_no_error == 3

    at.button(key="import_run").click().run()  # the same file again adds nothing

    assert "Traces: 0 added, 7 already present" in texts(at)
    assert "Judgments unchanged: 7" in texts(at)
    assert project_overview(db, "GSM8K").traces == 7


def test_processbench_predictions_get_their_own_source(database_url, db, tmp_path):
    records = [processbench(i, label=-1, prediction=[0, -1, 9][i]) for i in range(3)]
    path = write_jsonl(tmp_path / "eval.jsonl", records)
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()

    assert at.text_input(key="import_predictions_as").value == "model:processbench-predictions"
    at.text_input(key="import_predictions_as").set_value("model:qwen-critic").run()
    shown = texts(at)
    assert "model:qwen-critic: step 1" in shown
    assert "model:qwen-critic: no error" in shown
    assert "model:qwen-critic: not judged" in shown  # prediction 9 is not a step of a 3-step trace

    at.selectbox(key="import_project").set_value(DEMO_PROJECT).run()
    at.button(key="import_run").click().run()

    assert "Judgments added: 3 reference, 3 model:qwen-critic" in texts(at)
    assert any("prediction 9" in w.value for w in at.warning)
    assert project_overview(db, DEMO_PROJECT).traces == 36 + 3


def test_uploaded_file_is_named_by_its_own_name(database_url, db):
    data = "".join(json.dumps(processbench(i, label=-1)) + "\n" for i in range(2)).encode()
    at = open_app(PAGE)

    at.file_uploader(key="import_upload").set_value(("my-upload.jsonl", data, "application/json")).run()
    choose_new_project(at, "Uploaded")
    at.button(key="import_run").click().run()

    assert not at.exception
    assert any("Imported my-upload.jsonl (processbench)" in s.value for s in at.success)
    assert project_overview(db, "Uploaded").traces == 2


def test_truncated_file_in_the_preview_is_named_by_line(database_url, db, tmp_path):
    good = json.dumps(processbench(1, label=-1))
    path = write_jsonl(tmp_path / "cut.jsonl", [processbench(0, label=-1)], tail=good[: len(good) // 2] + "\n")
    at = open_app(PAGE)
    before = overview_counts(db)
    assert before  # the demo project

    at.text_input(key="import_path").set_value(str(path)).run()

    assert len(at.error) == 1
    message = at.error[0].value
    assert "cut.jsonl" in message
    assert "line 2" in message
    assert "not valid JSON" in message
    assert not at.button  # nothing to import until the file reads
    assert overview_counts(db) == before


def test_truncated_file_past_the_preview_fails_whole_and_changes_nothing(database_url, db, tmp_path):
    records = [processbench(i, label=-1) for i in range(30)]  # past the records the page reads to look
    cut = json.dumps(processbench(30, label=-1))[:40]
    path = write_jsonl(tmp_path / "late.jsonl", records, tail=cut + "\n")
    at = open_app(PAGE)
    before = overview_counts(db)
    assert before  # the demo project
    at.text_input(key="import_path").set_value(str(path)).run()
    assert not at.error  # the first records read fine
    choose_new_project(at, "Never")

    at.button(key="import_run").click().run()

    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "late.jsonl" in message
    assert "record 31" in message
    assert "line 31" in message
    assert any("database is unchanged" in c.value for c in at.caption)
    assert not any("Imported" in s.value for s in at.success)
    assert overview_counts(db) == before
    with pytest.raises(NoSuchProject):
        project_overview(db, "Never")


def test_generic_csv_through_a_field_mapping(database_url, db, tmp_path):
    path = tmp_path / "mine.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["uid", "question", "solution", "err", "note"])
        writer.writerow(["a", "What is 2 + 2?", "Step 1: 2 + 2 = 5.\nStep 2: The answer is 5.", "1", "x"])
        writer.writerow(["b", "What is 3 + 3?", "Step 1: 3 + 3 = 6.\nStep 2: The answer is 6.", "N/A", "y"])
        writer.writerow(["c", "What is 1 + 1?", "Step 1: 1 + 1 = 2.\nStep 2: So it is 3.", "2", "z"])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()
    # Issue 17: not a red error with a Python list of fields, but the fields with a value each, and the mapping.
    assert not at.error
    assert "None of the known formats matches" in at.warning[0].value
    fields = next(d.value for d in at.dataframe if "field" in d.value.columns)
    assert list(fields["field"]) == ["uid", "question", "solution", "err", "note"]
    assert list(fields["a value from the file"])[:2] == ["a", "What is 2 + 2?"]
    assert at.selectbox(key="import_map_problem").value == "question"  # the mapping form is open already

    at.selectbox(key="import_format").set_value("generic").run()

    # Redline's fields are matched to the file's columns where the name is a common one.
    assert at.selectbox(key="import_map_problem").value == "question"
    assert at.selectbox(key="import_map_steps").value == "solution"
    assert at.selectbox(key="import_map_id").value == "uid"
    assert at.selectbox(key="import_map_first_error").value == "(none)"
    assert at.text_input(key="import_no_error").value == "null, -1, N/A"
    assert "reference: not judged" not in texts(at)  # no label column mapped: no judgment at all
    assert "no labels in this record" in texts(at)

    at.selectbox(key="import_map_first_error").set_value("err")
    at.radio(key="import_first_error_base").set_value(1).run()

    assert not at.error
    shown = texts(at)
    assert "2 + 2 = 5." in shown
    assert "The answer is 5." in shown
    assert "reference: step 1" in shown
    assert "reference: no error" in shown
    assert "reference: step 2" in shown

    choose_new_project(at, "Mine")
    at.button(key="import_run").click().run()

    assert "Traces: 3 added, 0 already present" in texts(at)
    overview = project_overview(db, "Mine")
    assert (overview.traces, overview.steps) == (3, 6)
    assert overview.judgments["reference"] == 3
    assert overview.reference_no_error == 1


def test_generic_mapping_without_steps_is_refused(database_url, tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_text("question\tsolution\nWhat is 2 + 2?\t4\n", encoding="utf-8")
    at = open_as_generic(path)

    at.selectbox(key="import_map_steps").set_value("(none)").run()

    assert any("Field mapping" in e.value and "steps" in e.value for e in at.error)
    assert not at.button


def test_regex_step_split_takes_a_pattern(database_url, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("problem,steps\nAdd 1 and 1.,one; two; three\n", encoding="utf-8")
    at = open_as_generic(path)

    at.selectbox(key="import_step_split").set_value("regex:PATTERN").run()
    at.text_input(key="import_step_regex").set_value(r";\s*").run()

    assert not at.error
    assert [t for t in texts(at) if t in ("one", "two", "three")] == ["one", "two", "three"]


def test_bad_labels_source_is_explained(database_url, tmp_path):
    path = write_jsonl(tmp_path / "gsm8k.jsonl", [processbench(0, label=-1)])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()

    at.text_input(key="import_as").set_value("model").run()

    assert any("Labels source" in e.value and "needs a name" in e.value for e in at.error)
    assert not at.button


def test_file_text_is_shown_as_plain_text(database_url, tmp_path):
    hostile = "Is $x^2$ **bold** <script>alert(1)</script> [link](javascript:alert(1))?"
    record = processbench(0, label=-1) | {"problem": hostile, "steps": ["<img src=x onerror=alert(1)>", "$$"]}
    path = write_jsonl(tmp_path / "hostile.jsonl", [record])
    at = open_app(PAGE)

    at.text_input(key="import_path").set_value(str(path)).run()

    assert hostile in texts(at)
    assert "<img src=x onerror=alert(1)>" in texts(at)
    assert not any("<script>" in m.value or "$x^2$" in m.value for m in at.markdown)


def test_missing_server_path_is_reported(database_url, tmp_path):
    at = open_app(PAGE)

    at.text_input(key="import_path").set_value(str(tmp_path / "nope.jsonl")).run()

    assert "no file at nope.jsonl in the import folder" in at.error[0].value
    assert not at.button


def test_a_path_outside_the_import_folder_shows_nothing_of_the_file(database_url, tmp_path, monkeypatch):
    """Finding 10: the page read any file the server could; a credentials JSON's values showed in the preview."""
    imports = tmp_path / "imports"
    imports.mkdir()
    monkeypatch.setenv("REDLINE_IMPORT_DIR", str(imports))
    secret = write_jsonl(tmp_path / "credentials.jsonl", [{"problem": "client_secret", "steps": ["s3cr3t-value"]}])
    at = open_app(PAGE)

    at.text_input(key="import_path").set_value(str(secret)).run()

    refused = at.error[0].value
    assert "read only from the import folder" in refused
    assert not any("s3cr3t" in t for t in texts(at))
    assert not at.button  # no preview, no Import button
    # Whether a path exists outside the folder is not given away.
    at.text_input(key="import_path").set_value(str(tmp_path / "no-such-file.jsonl")).run()
    assert at.error[0].value == refused


def test_the_database_file_is_refused_before_it_is_opened(database_url, tmp_path, monkeypatch):
    """Finding 1: the page opened the SQLite file with plain file I/O (and said "invalid UTF-8")."""
    opened: list[str] = []
    real_open = Path.open

    def spy(self, *args, **kwargs):
        opened.append(str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    at = open_app(PAGE)

    at.text_input(key="import_path").set_value(str(tmp_path / "redline.db")).run()

    assert "Redline's own files" in at.error[0].value
    assert "invalid UTF-8" not in at.error[0].value
    assert not [p for p in opened if p.startswith(str(tmp_path / "redline.db"))]


def test_the_import_button_is_there_at_once_and_says_why_it_waits(database_url, tmp_path):
    """Issue 17: the Import button appeared only after the project name was confirmed with Enter."""
    path = write_jsonl(tmp_path / "pb.jsonl", [processbench(0, 1), processbench(1, -1)])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()
    at.selectbox(key="import_project").set_value(NEW_PROJECT).run()
    button = at.button(key="import_run")
    assert button.disabled
    assert any("Type a name for the new project" in c.value for c in at.caption)
    at.text_input(key="import_new_project").set_value("Named").run()
    assert not at.button(key="import_run").disabled
    at.button(key="import_run").click().run()
    assert any(o.name == "Named" for o in list_overviews_of(at))


def list_overviews_of(at):
    from annotation.ops.startup import prepare

    engine = prepare()
    try:
        return list_overviews(engine)
    finally:
        engine.dispose()


def _csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "solution", "err"])
        writer.writerows(rows)
    return path


def test_the_first_error_base_is_read_from_the_file_or_asked(database_url, tmp_path):
    """Issue 17: a first-error column holding no 0 was still counted from 0, silently."""
    one_based = _csv(
        tmp_path / "one.csv", [["1 + 1?", "1 + 1 = 3.\nSo 3.", "2"], ["2 + 2?", "2 + 2 = 4.\nSo 4.", "N/A"]]
    )
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(one_based)).run()
    at.selectbox(key="import_map_first_error").set_value("err").run()
    assert any("Counted from 1: record 1 has err = 2, its number of steps" in c.value for c in at.caption)
    assert "reference: step 2" in texts(at)  # the last step, counted as people count

    unknown = _csv(tmp_path / "unknown.csv", [["1 + 1?", "1 + 1 = 3.\nSo 3.\nDone.", "1"]])
    at.text_input(key="import_path").set_value(str(unknown)).run()
    at.selectbox(key="import_map_first_error").set_value("err").run()
    assert any("does not show whether its first errors count from 0 or 1" in i.value for i in at.info)
    assert not at.get("button") or "import_run" not in [b.key for b in at.button]  # nothing to import yet
    at.radio(key="import_first_error_base").set_value(0).run()  # the person says; their choice stays
    assert "reference: step 2" in texts(at)


def test_a_problem_from_two_columns_on_the_page(database_url, tmp_path):
    path = tmp_path / "mrben.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Question", "Options", "solution"])
        writer.writerow(["Which is prime?", "A) 4 B) 5", "Choice B is prime.\nSo B."])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()
    at.selectbox(key="import_map_problem").set_value("Question").run()
    at.multiselect(key="import_join_problem").set_value(["Options"]).run()
    assert "Which is prime?\n\nA) 4 B) 5" in texts(at)


def test_the_preview_does_not_repeat_a_steps_own_numbering(database_url, tmp_path):
    record = processbench(0, 1) | {"steps": ["Step 1: Add 2 and 2.", "Step 2: It is 5."]}
    path = write_jsonl(tmp_path / "numbered.jsonl", [record])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()
    shown = texts(at)
    assert "Add 2 and 2." in shown and "Step 1: Add 2 and 2." not in shown


def test_labels_made_elsewhere_attach_to_the_projects_traces(database_url, db, tmp_path):
    """Issue 16: a CSV of a person's critiques imported as human:NAME added new traces instead."""
    path = write_jsonl(tmp_path / "gsm8k.jsonl", [processbench(i, label=[-1, 1, 0][i % 3]) for i in range(4)])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()
    choose_new_project(at, "Maths")
    at.button(key="import_run").click().run()
    assert "Traces: 4 added, 0 already present" in texts(at)

    labels = tmp_path / "alice.csv"
    with labels.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "problem", "steps", "step_critiques", "step_verdicts"])
        for i in (1, 2):
            rec = processbench(i, label=-1)
            writer.writerow(
                [rec["id"], rec["problem"], json.dumps(rec["steps"]), json.dumps(["fine", "ok", "wrong"]), "[1,1,-1]"]
            )
    at = open_as_generic(labels)
    assert at.selectbox(key="import_map_step_critiques").value == "step_critiques"  # found by its name
    assert at.selectbox(key="import_map_step_verdicts").value == "step_verdicts"
    at.text_input(key="import_as").set_value("human:alice").run()
    at.selectbox(key="import_project").set_value("Maths").run()
    at.button(key="import_run").click().run()

    shown = texts(at)
    assert "Traces: 0 added, 2 already present" in shown
    assert (
        "Labels attached to traces already in the project: 2 records matched (2 the same id and text, "
        "0 by record id, 0 by problem and steps)"
    ) in shown
    overview = project_overview(db, "Maths")
    assert overview.traces == 4 and overview.judgments["human"] == 2
