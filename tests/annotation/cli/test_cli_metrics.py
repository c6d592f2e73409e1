"""`python -m annotation metrics`: on ProcessBench gsm8k with a predictions file, its figures are ProcessBench's."""

import json

import numpy as np
import pytest

from tests.utils.cli import cli_database, run

pytestmark = pytest.mark.datasets


@pytest.fixture
def db(tmp_path, monkeypatch):
    return cli_database(tmp_path, monkeypatch)


def predicted(i: int, label: int, n_steps: int) -> int | None:
    """A critic that is right on a third, says "no error" on a third, and is one step late (or 0) otherwise."""
    if i % 7 == 0:
        return None  # no parsable \\boxed{} index
    if i % 3 == 0:
        return label
    if i % 3 == 1:
        return -1
    return min(label + 1, n_steps - 1) if label >= 0 else 0


def evaluation_output(records: list[dict]) -> list[dict]:
    """The shape ProcessBench's evaluation script writes: the record plus its critique, prediction and match."""
    out = []
    for i, r in enumerate(records):
        prediction = predicted(i, r["label"], len(r["steps"]))
        out.append(
            {
                **r,
                "generated_critique": f"Paragraph by paragraph... \\boxed{{{prediction}}}",
                "prediction": prediction,
                "match": prediction == r["label"],
            }
        )
    return out


def processbench_formula(results: list[dict]) -> dict[str, float]:
    """ProcessBench's own lines: mean match per side times 100, F1 of the two."""
    data1 = [e for e in results if e["label"] != -1]
    data2 = [e for e in results if e["label"] == -1]
    acc1 = np.mean([e["match"] for e in data1]) * 100
    acc2 = np.mean([e["match"] for e in data2]) * 100
    f1 = 2 * acc1 * acc2 / (acc1 + acc2)
    return {"acc_error": round(acc1, 1), "acc_correct": round(acc2, 1), "f1": round(f1, 1)}


def test_gsm8k_figures_equal_processbench_formula(db, datasets, tmp_path, capsys):
    gsm8k = datasets / "processbench" / "gsm8k.json"
    records = json.loads(gsm8k.read_text(encoding="utf-8"))
    results = evaluation_output(records)
    predictions = tmp_path / "gsm8k_predictions.jsonl"
    predictions.write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")

    assert run(capsys, "import", str(gsm8k), "--project", "pb", "--quiet")[0] == 0
    code, out, _ = run(
        capsys, "import", str(predictions), "--project", "pb", "--predictions-as", "model:critic", "--quiet", "--json"
    )
    assert code == 0 and json.loads(out)["judgments_added"] == {"model:critic": 400}

    code, out, err = run(capsys, "metrics", "--project", "pb", "--a", "model:critic", "--b", "reference", "--json")
    assert code == 0, err
    figures = json.loads(out)
    expected = processbench_formula(results)
    assert {k: figures[k] for k in expected} == expected
    assert figures["n"] == 400 and figures["n_correct"] == 193
    assert figures["first_error_accuracy"] == round(100 * np.mean([e["match"] for e in results]), 1)
    assert figures["disagreements"]["no_answer"] == sum(e["prediction"] is None for e in results)
    assert figures["disagreements"]["missed"] == sum(e["prediction"] == -1 and e["label"] != -1 for e in results)
    assert figures["disagreements"]["false_alarm"] == sum(
        e["prediction"] is not None and e["prediction"] >= 0 and e["label"] == -1 for e in results
    )
    assert figures["disagreements"]["too_late"] == sum(
        e["prediction"] is not None and e["prediction"] > e["label"] >= 0 for e in results
    )
    for key in ("mcc", "step_kappa", "first_error_within_k"):
        assert isinstance(figures[key], float)
    low, high = figures["intervals"]["f1"]
    assert low <= figures["f1"] <= high


def test_text_output_and_bad_sources(db, tmp_path, capsys):
    path = tmp_path / "pb.jsonl"
    path.write_text(
        json.dumps({"id": "x-1", "problem": "1+1?", "steps": ["1+1=3"], "label": 0, "prediction": 0}) + "\n",
        encoding="utf-8",
    )
    run(capsys, "import", str(path), "--project", "p", "--quiet")
    code, out, _ = run(capsys, "metrics", "--project", "p", "--a", "model:processbench-predictions", "--bootstrap", "0")
    assert code == 0
    assert "acc_error 100.0" in out and "1 pairs" in out
    code, _, err = run(capsys, "metrics", "--project", "p", "--a", "model:nobody")
    assert code == 2 and "no judgments from model:nobody" in err and "reference" in err
    code, _, err = run(capsys, "metrics", "--project", "nope", "--a", "reference")
    assert code == 1 and "no project named 'nope'" in err
    code, _, err = run(capsys, "metrics", "--project", "p", "--a", "robot:x")
    assert code == 2 and "unknown source kind" in err
