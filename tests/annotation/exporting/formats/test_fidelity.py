"""Import a real dataset, export it in its own format: every label comes back unchanged, and the export,
imported again, gives the same judgments."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import export_project
from annotation.importing.files import import_file
from annotation.projects.traces import load_traces
from tests.utils.export_data import read_jsonl
from tests.utils.files import write_jsonl

pytestmark = pytest.mark.datasets


def judgments_by_position(engine, project: str) -> list[dict[str, Any]]:
    return [{src: j.content() for src, j in st.judgments.items()} for st in load_traces(engine, project)]


def test_processbench_round_trip(sqlite_engine, datasets, tmp_path):
    original = json.loads((datasets / "processbench" / "gsm8k.json").read_text())
    import_file(sqlite_engine, datasets / "processbench" / "gsm8k.json", project="pb")

    export_project(sqlite_engine, "pb", "processbench", tmp_path / "gsm8k.jsonl")
    exported = read_jsonl(tmp_path / "gsm8k.jsonl")

    assert exported == original  # every field, label -1 included, in the file's order
    again = import_file(sqlite_engine, tmp_path / "gsm8k.jsonl", project="pb")
    assert again.traces_added == 0 and again.judgments_unchanged == 400 and not again.judgments_revised
    import_file(sqlite_engine, tmp_path / "gsm8k.jsonl", project="pb-back")
    assert judgments_by_position(sqlite_engine, "pb-back") == judgments_by_position(sqlite_engine, "pb")


def test_bigbench_mistake_round_trip_per_task(sqlite_engine, datasets, tmp_path):
    files = sorted((datasets / "big-bench-mistake").glob("*.jsonl"))
    for path in files:
        import_file(sqlite_engine, path, project="bbm")
    for path in files:
        out = tmp_path / path.name  # the task is the file's name, as in the original
        export_project(sqlite_engine, "bbm", "bigbench-mistake", out, ExportOptions(where={"task": path.stem}))
        original = read_jsonl(path)
        exported = read_jsonl(out)
        assert [r["mistake_index"] for r in exported] == [r["mistake_index"] for r in original]
        assert exported == original
        again = import_file(sqlite_engine, out, project="bbm")
        assert again.traces_added == 0 and again.judgments_unchanged == len(original)
    nulls = sum(r["mistake_index"] is None for p in files for r in read_jsonl(p))
    assert nulls == 478


def completion_view(step: dict[str, Any]) -> tuple:
    """A PRM800K step as its labels: the offered completions with their ratings, the chosen one, the human one.
    The position of the chosen completion and the flagged marks are not kept by the importer."""
    completions = sorted((c["text"], c["rating"]) for c in step["completions"])
    chosen = step["chosen_completion"]
    picked = None if chosen is None else (step["completions"][chosen]["text"], step["completions"][chosen]["rating"])
    human = (step.get("human_completion") or {}).get("text")
    return completions, picked, human


def test_prm800k_round_trip_keeps_ratings_and_finish_reasons(sqlite_engine, datasets, tmp_path):
    folder = datasets / "prm800k-sample"
    originals: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        import_file(sqlite_engine, path, project="prm")
        for rec in read_jsonl(path):
            originals.setdefault(f"{rec['labeler']}@{rec['timestamp']}", rec)

    export_project(sqlite_engine, "prm", "prm800k", tmp_path / "prm.jsonl")
    exported = {f"{r['labeler']}@{r['timestamp']}": r for r in read_jsonl(tmp_path / "prm.jsonl")}

    assert exported.keys() == originals.keys()
    assert Counter(r["label"]["finish_reason"] for r in exported.values()) == Counter(
        {"found_error": 9, "solution": 2, "give_up": 1}
    )
    for key, rec in originals.items():
        got = exported[key]
        assert got["label"]["finish_reason"] == rec["label"]["finish_reason"]
        assert got["label"]["total_time"] == rec["label"]["total_time"]
        assert got["question"] == rec["question"]
        for field in ("generation", "is_quality_control_question", "is_initial_screening_question"):
            assert got[field] == rec[field]
        if rec["question"].get("pre_generated_steps") is not None:
            # Phase 2: the same ratings, completion by completion, in the same order.
            assert [[c["rating"] for c in s["completions"]] for s in got["label"]["steps"]] == [
                [c["rating"] for c in s["completions"]] for s in rec["label"]["steps"]
            ]
            assert [s["chosen_completion"] for s in got["label"]["steps"]] == [
                s["chosen_completion"] for s in rec["label"]["steps"]
            ]
        assert [completion_view(s) for s in got["label"]["steps"]] == [
            completion_view(s) for s in rec["label"]["steps"]
        ]
    again = import_file(sqlite_engine, tmp_path / "prm.jsonl", project="prm")
    assert again.traces_added == 0 and again.judgments_unchanged == len(originals) and not again.judgments_revised


def test_trl_stepwise_round_trip(sqlite_engine, tmp_path):
    records = [
        {"prompt": "2 + 2?", "completions": ["2 + 2 = 4.", "So 4."], "labels": [True, True]},
        {"prompt": "3 * 3?", "completions": ["3 * 3 = 6.", "So 6.", "Done."], "labels": [False]},
        {"prompt": "5 - 1?", "completions": ["5 - 1 = 4.", "4 / 2 = 3."], "labels": [True, False]},
    ]
    write_jsonl(tmp_path / "in.jsonl", records)
    import_file(sqlite_engine, tmp_path / "in.jsonl", project="trl")

    export_project(sqlite_engine, "trl", "trl-stepwise", tmp_path / "out.jsonl")
    exported = read_jsonl(tmp_path / "out.jsonl")

    # The prompt ends with the separator (a newline): the trainers put the first step's tokens straight after it.
    expected = [records[0], {**records[1], "completions": ["3 * 3 = 6."]}, records[2]]
    assert exported == [{**r, "prompt": r["prompt"] + "\n"} for r in expected]
    import_file(sqlite_engine, tmp_path / "out.jsonl", project="trl-back")
    assert judgments_by_position(sqlite_engine, "trl-back") == judgments_by_position(sqlite_engine, "trl")


def test_trl_every_step_keeps_each_verdict(sqlite_engine, tmp_path):
    records = [{"prompt": "x?", "completions": ["a", "b", "c"], "labels": [True, False, True]}]
    write_jsonl(tmp_path / "in.jsonl", records)
    import_file(sqlite_engine, tmp_path / "in.jsonl", project="trl")

    export_project(
        sqlite_engine, "trl", "trl-stepwise", tmp_path / "every.jsonl", ExportOptions(step_labels="every-step")
    )
    export_project(sqlite_engine, "trl", "trl-stepwise", tmp_path / "first.jsonl")

    assert read_jsonl(tmp_path / "every.jsonl") == [{**records[0], "prompt": "x?\n"}]
    first = [{"prompt": "x?\n", "completions": ["a", "b"], "labels": [True, False]}]
    assert read_jsonl(tmp_path / "first.jsonl") == first
