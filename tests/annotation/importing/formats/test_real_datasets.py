"""Each adapter on the real files in ../shared/datasets, read in place: counts and every label kept."""

import json

import pytest

from annotation.core.model import NO_ERROR
from annotation.importing.files import import_file
from annotation.projects.overview import project_overview
from annotation.projects.traces import load_traces

pytestmark = pytest.mark.datasets


def test_processbench_gsm8k(sqlite_engine, datasets):
    path = datasets / "processbench" / "gsm8k.json"
    summary = import_file(sqlite_engine, path, project="pb")
    assert summary.format == "processbench"
    stats = project_overview(sqlite_engine, "pb").as_stats()
    assert stats["traces"] == 400
    assert stats["reference_no_error"] == 193
    expected = {r["id"]: r for r in json.loads(path.read_text())}
    stored = load_traces(sqlite_engine, "pb")
    assert len(stored) == 400
    for st in stored:
        rec = expected[st.trace.record_id]
        assert st.trace.steps == rec["steps"]
        assert st.trace.generator == rec["generator"]
        assert st.trace.metadata["final_answer_correct"] == rec["final_answer_correct"]
        assert st.trace.metadata["subset"] == "gsm8k"
        assert st.judgments["reference"].first_error == rec["label"]


def test_bigbench_mistake_all_tasks(sqlite_engine, datasets):
    files = sorted((datasets / "big-bench-mistake").glob("*.jsonl"))
    assert len(files) == 5
    for path in files:
        assert import_file(sqlite_engine, path, project="bbm").format == "bigbench-mistake"
    stats = project_overview(sqlite_engine, "bbm").as_stats()
    assert stats["traces"] == 2186
    assert stats["reference_no_error"] == 478
    stored = {st.trace.record_id: st for st in load_traces(sqlite_engine, "bbm")}
    for path in files:
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            rec = json.loads(line)
            st = stored[f"{path.stem}-{n}"]
            got = st.judgments["reference"].first_error
            # null means "no mistake" (never "mistake at step 0"); indices are 0-based already.
            assert got == (NO_ERROR if rec["mistake_index"] is None else rec["mistake_index"])
            assert st.trace.metadata["task"] == path.stem
            assert st.trace.reference_answer == rec["target"]


def test_prmbench_keeps_one_based_error_steps(sqlite_engine, datasets):
    path = datasets / "prmbench" / "target_data_subset400.jsonl"
    summary = import_file(sqlite_engine, path, project="prmb")
    assert summary.format == "prmbench"
    assert project_overview(sqlite_engine, "prmb").traces == 394
    # Eleven records name error steps past their last step: kept, and said so.
    assert len(summary.warnings) == 11
    records = [json.loads(line) for line in path.read_text().splitlines()]
    stored = {st.trace.record_id: st for st in load_traces(sqlite_engine, "prmb")}
    for rec in records:
        st = stored[f"{rec['idx']}:{rec['classification']}"]
        ref = st.judgments["reference"]
        if rec["error_steps"]:
            assert ref.first_error == min(rec["error_steps"]) - 1
            wrong = {i + 1 for i, s in enumerate(ref.steps) if s.verdict == -1}
            assert wrong == {n for n in rec["error_steps"] if n <= len(rec["modified_process"])}
        else:
            assert ref.first_error == NO_ERROR
        assert ref.critique == rec["reason"]
        assert st.trace.metadata["error_steps"] == rec["error_steps"]


def test_prm800k_keeps_ratings_and_finish_reasons(sqlite_engine, datasets):
    folder = datasets / "prm800k-sample"
    for path in sorted(folder.glob("*.jsonl")):
        assert import_file(sqlite_engine, path, project="prm").format == "prm800k"
    stored = {st.trace.record_id: st for st in load_traces(sqlite_engine, "prm")}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            st = stored[f"{rec['labeler']}@{rec['timestamp']}"]
            ref = st.judgments["reference"]
            assert ref.finish_reason == rec["label"]["finish_reason"]
            assert ref.time_spent_s == rec["label"]["total_time"] / 1000
            if rec["question"].get("pre_generated_steps") is not None:
                assert st.trace.steps == rec["question"]["pre_generated_steps"]
                ratings = [s["completions"][0]["rating"] for s in rec["label"]["steps"]]
            else:
                ratings = [
                    s["completions"][s["chosen_completion"]]["rating"] if s["chosen_completion"] is not None else None
                    for s in rec["label"]["steps"]
                    if s["chosen_completion"] is not None or s["human_completion"] is not None
                ]
            got = [s.verdict for s in ref.steps]
            assert got == ratings[: len(got)]
            assert all(r is None for r in ratings[len(got) :])
            if -1 in ratings:
                assert ref.first_error == ratings.index(-1)
            elif rec["label"]["finish_reason"] == "solution":
                assert ref.first_error == NO_ERROR
            else:
                assert ref.first_error is None


def test_importing_a_dataset_twice_adds_nothing(sqlite_engine, datasets):
    path = datasets / "processbench" / "gsm8k.json"
    import_file(sqlite_engine, path, project="pb")
    again = import_file(sqlite_engine, path, project="pb")
    assert again.traces_added == 0
    assert again.traces_already_present == 400
    assert again.judgments_unchanged == 400
    assert not again.judgments_added
    assert project_overview(sqlite_engine, "pb").traces == 400
