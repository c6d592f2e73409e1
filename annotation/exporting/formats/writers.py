"""Write records as JSONL (streamed), Parquet (in row groups) or a Hugging Face ``datasets`` folder.

Every output is written under a temporary name beside its final place and renamed into place only
when complete, so no half-written file ever sits where a finished one is expected (a failed export
leaves the previous file, if any, untouched).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from annotation.exporting.formats.base import ExportFailure

OUTPUTS = ("jsonl", "parquet", "hf")
SUFFIXES = {"jsonl": ".jsonl", "parquet": ".parquet"}
PARQUET_BATCH = 5_000
CARD_NAME = "README.md"
CARD_MARKER = "<!-- dataset card written by Redline's export -->"
#: Files a Hugging Face folder written by save_to_disk holds; only such a folder may be replaced.
HF_MARKERS = ("dataset_info.json", "dataset_dict.json", "state.json")


def part_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.part")


def data_paths(out: Path, output: str, splits: list[str]) -> dict[str, Path]:
    """Where each split's data goes: ``out`` itself without a split, else ``<stem>-<split><suffix>`` beside it."""
    suffix = out.suffix or SUFFIXES[output]
    base = out if out.suffix else out.with_suffix(suffix)
    if splits == ["train"]:
        return {"train": base}
    return {split: base.with_name(f"{base.stem}-{split}{suffix}") for split in splits}


def card_path(out: Path, output: str) -> Path:
    """``<data file>.README.md`` beside the data, named by the data file's full name with its suffix (``--out
    exports/prm.jsonl`` gives ``exports/prm.jsonl.README.md``, one card for both sides of a split): one card per
    export, so two exports into one folder (``prm.jsonl`` and ``prm.parquet`` too) never share one."""
    base = out if out.suffix else out.with_suffix(SUFFIXES[output])
    return base.with_name(f"{base.name}.{CARD_NAME}")


def check_card_target(card: Path) -> None:
    """A card may replace an earlier export's card, never a file Redline did not write."""
    if card.exists() and CARD_MARKER not in card.read_text(encoding="utf-8", errors="replace"):
        raise ExportFailure(f"{card} exists and is not a dataset card Redline wrote; choose another --out")


def check_folder_target(out: Path) -> None:
    """A folder output may replace an earlier export's folder, never anything else."""
    if out.exists() and not (out.is_dir() and any((out / m).exists() for m in HF_MARKERS)):
        if out.is_dir() and not any(out.iterdir()):
            return
        raise ExportFailure(f"{out} exists and is not a Hugging Face dataset folder; choose another --out")


def replace_file(part: Path, final: Path) -> None:
    os.replace(part, final)


class JsonlWriter:
    def __init__(self, final: Path, schema: Any = None) -> None:
        self.final = final
        self.part = part_path(final)
        self._file = self.part.open("w", encoding="utf-8", newline="\n")
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(self._dumps(record))
        self._file.write("\n")
        self.count += 1

    def close(self) -> Path:
        self._file.close()
        replace_file(self.part, self.final)
        return self.final

    def abort(self) -> None:
        self._file.close()
        self.part.unlink(missing_ok=True)


class ParquetWriter:
    """Rows are buffered and written a row group at a time with the format's own schema."""

    def __init__(self, final: Path, schema: Any) -> None:
        import pyarrow.parquet as pq

        self.final = final
        self.part = part_path(final)
        self.schema = schema
        self._writer = pq.ParquetWriter(self.part, schema, compression="zstd")
        self._rows: list[dict[str, Any]] = []
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self._rows.append(record)
        self.count += 1
        if len(self._rows) >= PARQUET_BATCH:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def close(self) -> Path:
        self._flush()
        self._writer.close()
        replace_file(self.part, self.final)
        return self.final

    def abort(self) -> None:
        self._rows = []
        try:
            self._writer.close()
        finally:
            self.part.unlink(missing_ok=True)


def write_card(path: Path, text: str) -> Path:
    part = part_path(path)
    part.write_text(f"{text.rstrip()}\n\n{CARD_MARKER}\n", encoding="utf-8")
    replace_file(part, path)
    return path


def _load(datasets: Any, path: Path, features: Any, cache: Path, split: str) -> Any:
    import pyarrow.parquet as pq

    if pq.ParquetFile(path).metadata.num_rows == 0:
        # datasets refuses to build a split from a file without rows; an empty split is still a split.
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features, split=split)
    return datasets.Dataset.from_parquet(str(path), features=features, cache_dir=str(cache), split=split)


def hf_folder(parquet: dict[str, Path], schema: Any, out: Path, card: str) -> Path:
    """A ``save_to_disk`` folder (a Dataset, or a DatasetDict when split) with the card, renamed into place."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    check_folder_target(out)
    features = datasets.Features.from_arrow_schema(schema)
    part = part_path(out)
    cache = Path(tempfile.mkdtemp(prefix="redline-hf-cache-", dir=out.parent))
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # the page and the CLI show their own progress
    try:
        loaded = {split: _load(datasets, path, features, cache, split) for split, path in parquet.items()}
        dataset = loaded["train"] if list(loaded) == ["train"] else datasets.DatasetDict(loaded)
        dataset.save_to_disk(str(part))
        del dataset, loaded
        (part / CARD_NAME).write_text(f"{card.rstrip()}\n\n{CARD_MARKER}\n", encoding="utf-8")
        if out.exists():
            old = part_path(out)
            os.replace(out, old)
            os.replace(part, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(part, out)
    finally:
        if bars:
            datasets.enable_progress_bars()
        shutil.rmtree(cache, ignore_errors=True)
        if part.exists():
            shutil.rmtree(part, ignore_errors=True)
    return out
