"""Each trainer's shape, exported from ProcessBench GSM8K (../shared/datasets), loads with `datasets` as the
trainer's own data loading expects (checked by train-check), in every output, and says what the labels say."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.formats.openrlhf_prm import PLACEHOLDER
from annotation.exporting.run import export_project
from annotation.exporting.train_check import check_export
from annotation.exporting.trainer_shapes import SHAPES
from annotation.importing.files import import_file
from annotation.ops.startup import prepare
from tests.utils import gsm8k_project

OUTPUTS = {"jsonl": "data.jsonl", "parquet": "data.parquet", "hf": "data-hf"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, datasets: Path) -> tuple[Path, list[dict]]:
    """Every trainer shape written once in each output."""
    folder = tmp_path_factory.mktemp("shapes")
    engine = prepare(f"sqlite:///{folder / 'db.sqlite'}")
    originals = gsm8k_project.build(engine, datasets, folder)
    for shape in SHAPES:
        for output, name in OUTPUTS.items():
            options = ExportOptions(output=output, source="reference")
            export_project(engine, gsm8k_project.PROJECT, shape, folder / shape / name, options)
    engine.dispose()
    return folder, originals


def load(path: Path, tmp_path: Path) -> datasets.Dataset:
    if path.is_dir():
        return datasets.load_from_disk(str(path))
    if path.suffix == ".parquet":
        return datasets.Dataset.from_parquet(str(path), cache_dir=str(tmp_path))
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path))


@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_loads_as_its_trainer_expects(exported, shape, output):
    folder, _ = exported
    report = check_export(folder / shape / OUTPUTS[output])  # the shape read from the export's own card
    assert report.shape == shape
    assert report.ok, report.lines()
    assert sum(report.rows.values()) > 0


def test_openrlhf_rows_carry_one_label_per_placeholder_as_processbench_labels_say(exported, tmp_path):
    folder, originals = exported
    rows = load(folder / "openrlhf-prm" / OUTPUTS["jsonl"], tmp_path)
    assert rows.features == datasets.Features(
        {"input": datasets.Value("string"), "label": datasets.List(datasets.Value("string"))}
    )
    assert rows.num_rows == len(originals) == 400
    for rec, row in zip(originals, rows, strict=True):
        first = rec["label"]
        expected = ["+"] * len(rec["steps"]) if first == -1 else ["+"] * first + ["-"]
        assert row["label"] == expected
        assert row["input"].count(PLACEHOLDER) == len(expected)
        assert row["input"].startswith(rec["problem"] + " Step 1: ")


def test_openrlhf_export_reads_back_with_the_same_first_errors(exported, sqlite_engine):
    """Math-Shepherd's layout: Redline's own math-shepherd importer reads the export back."""
    folder, originals = exported
    summary = import_file(sqlite_engine, folder / "openrlhf-prm" / OUTPUTS["jsonl"], project="back")
    assert summary.format == "math-shepherd" and summary.traces_added == 400
    from annotation.exporting.run import preview

    rows, _ = preview(sqlite_engine, "back", "processbench", ExportOptions(), n=400, max_traces=400)
    assert [r["label"] for r in rows] == [rec["label"] for rec in originals]


def test_stepwise_shapes_pair_each_step_with_its_label(exported, tmp_path):
    folder, originals = exported
    for shape in ("axolotl-prm", "trl-stepwise"):
        rows = load(folder / shape / OUTPUTS["parquet"], tmp_path)
        assert rows.features["labels"] == datasets.List(datasets.Value("bool"))
        # Axolotl casts the labels to int64 itself before use: the cast holds.
        as_ints = rows.cast_column("labels", datasets.List(datasets.Value("int64")))
        for rec, row, ints in zip(originals, rows, as_ints, strict=True):
            kept = len(rec["steps"]) if rec["label"] == -1 else rec["label"] + 1
            assert row["completions"] == rec["steps"][:kept]
            assert ints["labels"] == [1] * (kept - 1) + [0 if rec["label"] != -1 else 1]
            # Review of issue 16: the trainers put the prompt's tokens straight before the first step's.
            assert row["prompt"] == rec["problem"] + "\n"


def test_preference_and_sft_rows_from_the_critic(exported, tmp_path):
    folder, _ = exported
    kto = load(folder / "kto" / OUTPUTS["hf"], tmp_path)
    assert kto.num_rows == 400 and set(kto["label"]) == {True, False}
    assert all(p.endswith("\\boxed{}.\n") for p in kto["prompt"])
    dpo = load(folder / "dpo" / OUTPUTS["jsonl"], tmp_path)
    assert dpo.num_rows == 200  # the critic is wrong on every other trace
    sft = load(folder / "critique-sft" / OUTPUTS["parquet"], tmp_path)
    assert sft.num_rows == 400 and all(m[-1]["role"] == "assistant" for m in sft["messages"])


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    import json

    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_train_check_names_what_a_trainer_would_get_wrong(tmp_path):
    shifted = write_jsonl(tmp_path / "o.jsonl", [{"input": f"p Step 1: a {PLACEHOLDER}", "label": ["+", "-"]}])
    report = check_export(shifted, "openrlhf-prm")
    assert not report.ok
    assert report.problems == [
        f"train, row 0: 1 placeholders '{PLACEHOLDER}' in input for 2 labels: labels would shift"
    ]

    untyped = write_jsonl(tmp_path / "a.jsonl", [{"prompt": "p", "completions": "one step", "labels": [True]}])
    report = check_export(untyped, "axolotl-prm")
    assert report.problems == ["train: column 'completions' is Value('string'), expected a list of texts"]

    joined = write_jsonl(tmp_path / "k.jsonl", [{"prompt": "Find x.", "completion": "x = 1", "label": True}])
    report = check_export(joined, "kto")
    assert report.problems == ["train, row 0: the prompt runs straight into the completion (no separator between them)"]

    stepwise = write_jsonl(tmp_path / "s.jsonl", [{"prompt": "Find x.", "completions": ["x = 1"], "labels": [True]}])
    assert check_export(stepwise, "axolotl-prm").problems == [
        "train, row 0: the prompt runs straight into the first completion (no separator between them)"
    ]

    missing = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "p\n", "chosen": "a"}])
    assert check_export(missing, "dpo").problems == [
        "train: no column 'rejected' (text, or chat messages (role, content)); the trainer reads it by that name"
    ]


def test_train_check_without_a_card_asks_for_the_shape(tmp_path):
    from annotation.exporting.formats.base import ExportFailure

    bare = write_jsonl(tmp_path / "bare.jsonl", [{"prompt": "p", "completions": ["a"], "labels": [True]}])
    with pytest.raises(ExportFailure, match="no dataset card names its format"):
        check_export(bare)
    with pytest.raises(ExportFailure, match="no trainer's shape"):
        check_export(bare, "processbench")
