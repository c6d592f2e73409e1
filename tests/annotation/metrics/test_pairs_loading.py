"""Judgments are read from the database as columns, on SQLite and PostgreSQL, and paired source by source."""

import json

import pytest
from sqlmodel import select

from annotation.core.model import Source
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.metrics import ALL_HUMANS, data_version, load_project, make_pairs
from annotation.metrics.pairs import UNJUDGED, check_source, source_label
from annotation.projects.overview import NoSuchProject
from storage.db import session
from storage.tables import JudgmentRow


def write_predictions(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def record(i, label, prediction, subset="gsm8k"):
    return {
        "id": f"{subset}-{i}",
        "generator": f"gen-{i % 2}",
        "problem": f"What is {i} + {i}?",
        "steps": [f"Take {i}.", f"Add {i}.", f"Get {2 * i}."],
        "final_answer_correct": label == -1,
        "label": label,
        "prediction": prediction,
        "generated_critique": f"critique {i}",
        "match": prediction == label,
    }


def imported(engine, tmp_path):
    path = write_predictions(
        tmp_path / "pred.jsonl",
        [record(0, -1, -1), record(1, 1, 0), record(2, 2, None), record(3, -1, 2, subset="math")],
    )
    options = ConvertOptions(predictions_source=Source("model", "critic"))
    import_file(engine, path, project="p", options=options)


def test_columns_as_loaded(engine, tmp_path):
    imported(engine, tmp_path)
    data = load_project(engine, "p")
    assert data.sources == ["model:critic", "reference"]
    model = data.rows_of("model:critic").set_index("trace_id").sort_index()
    assert model["first_error"].tolist() == [-1, 0, UNJUDGED, 2]
    assert model["flawed"].tolist() == [0, 1, -1, 1]
    assert data.traces.sort_values("position")["subset"].tolist() == ["gsm8k", "gsm8k", "gsm8k", "math"]
    assert data.traces["n_steps"].tolist() == [3, 3, 3, 3]


def test_drafts_are_left_out_and_failed_counts_as_no_answer(engine, tmp_path):
    imported(engine, tmp_path)
    with session(engine) as s:
        rows = list(s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == "model")))
        rows[0].status = "draft"
        rows[1].status = "failed"
        s.add_all(rows[:2])
        s.commit()
    data = load_project(engine, "p")
    model = data.rows_of("model:critic")
    assert len(model) == 3
    assert (model["first_error"] == UNJUDGED).sum() == 2


def test_pairs_and_the_data_version(engine, tmp_path):
    imported(engine, tmp_path)
    before = data_version(engine, "p")
    pairs = make_pairs(load_project(engine, "p"), "model:critic", "reference")
    assert len(pairs) == 4
    assert pairs.col("first_error_b").tolist() == [-1, 1, 2, -1]
    assert pairs.col("generator").tolist() == ["gen-0", "gen-1", "gen-0", "gen-1"]
    write_predictions(tmp_path / "more.jsonl", [record(4, 0, 0)])
    import_file(engine, tmp_path / "more.jsonl", project="p")
    assert data_version(engine, "p") != before


def test_unknown_project(engine):
    with pytest.raises(NoSuchProject):
        load_project(engine, "nope")


def test_source_names():
    assert check_source(" all humans ") == ALL_HUMANS
    assert check_source("model: x") == "model:x"
    assert source_label(ALL_HUMANS) == "all humans"


def test_step_verdicts_are_read_exactly_whatever_the_critiques_say():
    from annotation.metrics.pairs import UNSET, _parse_steps

    tricky = [
        json.dumps([{"verdict": 1, "critique": 'it says "verdict": -1, "tags": ["x"]', "tags": []},
                    {"verdict": -1, "critique": "ü\nnew line", "tags": ["arithmetic"]}]),
        "[]",
        json.dumps([{"verdict": -1}]),  # written by hand, without the other keys: read by a JSON parse
        json.dumps([{"verdict": None, "critique": "only words", "tags": []}]),  # nothing rated
        json.dumps([{"verdict": 0, "critique": None, "tags": []}, {"verdict": 7, "critique": None, "tags": []}]),
    ]  # fmt: skip
    flat, starts, lengths, tagged = _parse_steps(tricky)
    read = [flat[s : s + n].tolist() for s, n in zip(starts, lengths, strict=True)]
    assert read == [[1, -1], [], [-1], [], [0, UNSET]]
    assert tagged[0] == tricky[0] and tagged[2] is None


def test_compact_json_steps_are_read_not_taken_for_no_verdicts():
    """Finding 9: `{"verdict":-1}` without spaces read as no verdicts, and kappa then used implied ones silently."""
    from annotation.metrics.pairs import UNSET, _parse_steps

    compact = [
        json.dumps([{"verdict": 1, "critique": None, "tags": []}, {"verdict": -1, "critique": "x", "tags": []}],
                   separators=(",", ":")),
        json.dumps([{"verdict": -1}], separators=(",", ":")),
        '[{"verdict" : 1, "critique" : null, "tags" : []}]',  # a spelling the scan does not know: parsed in full
        json.dumps([{"critique": 'says "verdict":1', "verdict": 0, "tags": []}], separators=(",", ":")),
        json.dumps([{"verdict": None, "critique": "words", "tags": []}, {"verdict": 1, "critique": None, "tags": []}],
                   separators=(",", ":")),
    ]  # fmt: skip
    flat, starts, lengths, _ = _parse_steps(compact)
    read = [flat[s : s + n].tolist() for s, n in zip(starts, lengths, strict=True)]
    assert read == [[1, -1], [-1], [1], [0], [UNSET, 1]]
