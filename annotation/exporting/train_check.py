"""Load an export as a trainer would (with ``datasets``) and check it against that trainer's shape.

No trainer is imported (they need torch, and GPUs to train): trainer_shapes.py says what each one's data loading
expects, from reading its code. A JSON Lines or Parquet file, a split export (``NAME-train.jsonl`` and
``NAME-test.jsonl`` are each a file) or a ``save_to_disk`` folder (every split) is checked; the shape is the one
named, else the export format its dataset card names.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotation.exporting.formats.base import ExportFailure
from annotation.exporting.formats.writers import CARD_NAME
from annotation.exporting.trainer_shapes import KINDS, SHAPES, TrainerShape

#: Problems shown per kind of problem; the rest are counted.
SHOWN = 5


@dataclass
class CheckReport:
    path: str
    shape: str
    trainer: str
    rows: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: Rows with a problem, per problem (the row-independent part of its message).
    counts: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        rows = ", ".join(f"{split} {n:,}" for split, n in self.rows.items())
        head = f"{self.path}: {self.shape} for {self.trainer}; rows: {rows}"
        if self.ok:
            return [head, "ok: every column the trainer reads is there, typed as it expects, and every row holds"]
        more = [f"  ... and {n - SHOWN:,} more rows: {what}" for what, n in self.counts.items() if n > SHOWN]
        return [head, *(f"  {p}" for p in self.problems), *more]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "shape": self.shape,
            "trainer": self.trainer,
            "rows": self.rows,
            "ok": self.ok,
            "problems": self.problems,
            "counts": dict(self.counts),
        }


def card_candidates(path: Path) -> list[Path]:
    """Where the card of an export may be: inside a folder; beside a file, named by the file (``prm.jsonl`` ->
    ``prm.jsonl.README.md``), or for one side of a split by the name given to the export (``prm-train.jsonl`` ->
    ``prm.jsonl.README.md``); last, the ``prm.README.md`` of exports made before cards were named with the suffix."""
    if path.is_dir():
        return [path / CARD_NAME]
    stem = path.stem
    base = stem.rsplit("-", 1)[0] if stem.endswith(("-train", "-test")) else stem
    names = [
        f"{path.name}.{CARD_NAME}",
        f"{base}{path.suffix}.{CARD_NAME}",
        f"{stem}.{CARD_NAME}",
        f"{base}.{CARD_NAME}",
    ]
    return [path.with_name(name) for name in dict.fromkeys(names)]


def front_matter(text: str) -> list[str]:
    """The lines of a card's YAML header: between a first line ``---`` and the next line that is ``---`` alone (a
    ``---`` inside a value, such as a project's name, is no fence)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return []
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    return lines[1:end] if end is not None else []


def shape_named_by_card(path: Path) -> str | None:
    """The export format the dataset card beside (or inside) ``path`` names among its tags."""
    for card in card_candidates(path):
        if card.is_file():
            header = front_matter(card.read_text(encoding="utf-8"))
            tags = [line.strip()[1:].strip() for line in header if line.strip().startswith("- ")]
            found = [t for t in tags if t in SHAPES]
            if found:
                return found[0]
    return None


def _load(path: Path, cache: Path) -> dict[str, Any]:
    """Each split as a datasets.Dataset, loaded the way trainers' scripts load files."""
    import datasets

    if path.is_dir():
        loaded = datasets.load_from_disk(str(path))
        return dict(loaded) if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return {"train": datasets.Dataset.from_parquet(str(path), cache_dir=str(cache))}
    if suffix in (".jsonl", ".json"):
        return {"train": datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))}
    raise ExportFailure(f"{path}: give a .jsonl, .json or .parquet file, or a folder written by save_to_disk")


def _check_columns(shape: TrainerShape, split: str, features: Any, report: CheckReport) -> bool:
    fine = True
    for column, kind in shape.columns.items():
        title, matches = KINDS[kind]
        if column not in features:
            report.problems.append(f"{split}: no column {column!r} ({title}); the trainer reads it by that name")
            fine = False
        elif not matches(features[column]):
            report.problems.append(f"{split}: column {column!r} is {features[column]}, expected {title}")
            fine = False
    return fine


def _check_casts(shape: TrainerShape, split: str, ds: Any, report: CheckReport) -> None:
    import datasets

    for column, dtype in shape.casts.items():
        try:
            ds.cast_column(column, datasets.List(datasets.Value(dtype)))
        except (TypeError, ValueError) as e:  # what the trainer's own cast would raise
            report.problems.append(f"{split}: column {column!r} does not cast to a list of {dtype}: {e}")


def check_export(path: Path, shape_name: str | None = None) -> CheckReport:
    """Load ``path`` and check it against ``shape_name`` (or the format its card names)."""
    path = Path(path)
    if not path.exists():
        raise ExportFailure(f"{path} does not exist")
    name = shape_name or shape_named_by_card(path)
    if name is None:
        raise ExportFailure(f"{path}: no dataset card names its format; give the shape ({', '.join(SHAPES)})")
    if name not in SHAPES:
        raise ExportFailure(f"{name!r} is no trainer's shape that train-check knows; use one of {', '.join(SHAPES)}")
    shape = SHAPES[name]
    report = CheckReport(str(path), shape.name, shape.trainer)
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    cache = Path(tempfile.mkdtemp(prefix="redline-train-check-"))
    try:
        for split, ds in _load(path, cache).items():
            report.rows[split] = ds.num_rows
            if not _check_columns(shape, split, ds.features, report):
                continue
            _check_casts(shape, split, ds, report)
            for i, row in enumerate(ds.select_columns(list(shape.columns))):
                for problem in shape.row_problems(row):
                    report.counts[problem] += 1
                    if report.counts[problem] <= SHOWN:
                        report.problems.append(f"{split}, row {i}: {problem}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if bars:
            datasets.enable_progress_bars()
    return report
