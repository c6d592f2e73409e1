"""Turn a file into numbered records (dicts), whatever its container: JSON array, JSONL, CSV, Parquet, one JSON
object (a SWE-agent ``.traj``, a pretty-printed export), or a folder of JSON files (one record each, or an
array: each record's ``origin`` names its file, and its index when the file holds several).

Every record knows its 1-based record number and the line it starts on, so that an adapter's
complaint can point a person at the exact place in the file.

Limits, each named in its error: an import checks the whole file before it writes (so a bad record
changes nothing), and holds every converted record meanwhile, so a file to import is at most
``REDLINE_IMPORT_MAX_MB`` (256 MB unless set). A JSON array, CSV or Parquet file is read whole even
for a preview, so the same limit applies there; JSONL is streamed, so a preview of a larger JSONL
file still works. One record (a JSONL line, a CSV cell) is at most 64 MB.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotation.core.errors import ImportFailure

CONTAINERS = ("json", "jsonl", "csv", "parquet")
MAX_FILE_ENV = "REDLINE_IMPORT_MAX_MB"
DEFAULT_MAX_FILE_MB = 256
MAX_RECORD_BYTES = 64 * 1024 * 1024
MB = 1024 * 1024


def max_file_bytes() -> int:
    try:
        return int(float(os.environ.get(MAX_FILE_ENV) or DEFAULT_MAX_FILE_MB) * MB)
    except ValueError:
        return DEFAULT_MAX_FILE_MB * MB


def check_file_size(size: int, name: str, what: str = "the file is") -> None:
    limit = max_file_bytes()
    if size > limit:
        raise ImportFailure(
            f"{what} {size / MB:,.0f} MB; Redline imports files of at most {limit / MB:,.0f} MB "
            f"(set {MAX_FILE_ENV} to change the limit), because it checks a whole file before writing any "
            "of it. Split the file (JSONL: `split -l 100000`) and import the parts one after the other",
            file=name,
        )


@dataclass(slots=True)
class RawRecord:
    number: int
    line: int | None
    data: dict[str, Any]
    # In a folder: the file the record came from ("a.json", "b.json#2"); its default record id.
    origin: str | None = None
    # A record that could not be read (with skip_invalid): why. ``data`` is empty then.
    error: ImportFailure | None = None


FOLDER_SUFFIXES = (".json", ".jsonl", ".traj")


def container_of(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet" or head.startswith(b"PAR1"):
        return "parquet"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        return "json"
    return "jsonl"


def read_records(path: Path, display_name: str | None = None, limit: int | None = None) -> list[RawRecord]:
    return list(iter_records(path, display_name, limit))


def iter_records(
    path: Path, display_name: str | None = None, limit: int | None = None, *, skip_invalid: bool = False
) -> Iterator[RawRecord]:
    """Records one by one; JSONL is streamed line by line so a large file is never held whole. With
    ``skip_invalid``, a JSONL line that is not a JSON object comes as a record with its ``error``."""
    name = display_name or path.name
    if path.is_dir():
        yield from _read_folder(path, name, limit, skip_invalid)
        return
    try:
        with path.open("rb") as f:
            head = f.read(8)
        size = path.stat().st_size
    except OSError as e:
        raise ImportFailure(f"cannot read the file ({e.strerror})", file=name) from e
    kind = container_of(path, head)
    if kind != "jsonl" or not limit:  # only a JSONL preview reads no more than it shows
        check_file_size(size, name)
    if kind == "jsonl" and path.suffix.lower() in (".json", ".traj") and size <= max_file_bytes():
        whole = _one_object(path, name)
        if whole is not None:
            yield whole
            return
    if kind == "parquet":
        yield from _read_parquet(path, name, limit)
    elif kind == "jsonl":
        yield from _read_jsonl(path, name, limit, skip_invalid)
    else:
        text = _decode(path.read_bytes(), name)
        if kind == "csv":
            yield from _read_csv(text, name, limit, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        else:
            yield from _read_json_array(text, name, limit)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ImportFailure(
            f"invalid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); save the file as UTF-8",
            file=name,
            line=line,
        ) from e


def _as_record(value: Any, name: str, number: int, line: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportFailure(f"expected a JSON object, got {type(value).__name__}", file=name, record=number, line=line)
    return value


def _one_object(path: Path, name: str) -> RawRecord | None:
    """A ``.json`` or ``.traj`` file holding one JSON object, however it is laid out; None when it is JSON Lines
    after all (objects one per line: decoding the whole stops at the second)."""
    text = _decode(path.read_bytes(), name)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":
            return None
        if "\n" not in text.strip():
            return None  # one line: JSONL's reader names the error as it does for any line
        raise ImportFailure(
            f"not valid JSON ({e.msg}, line {e.lineno} column {e.colno})", file=name, record=1, line=e.lineno
        ) from e
    except (ValueError, RecursionError) as e:
        raise ImportFailure(_unreadable_json(e), file=name, record=1, line=1) from e
    return RawRecord(1, 1, _as_record(value, name, 1, 1))


def _read_folder(folder: Path, name: str, limit: int | None, skip_invalid: bool) -> Iterator[RawRecord]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES)
    if not files:
        raise ImportFailure(f"the folder holds no {', '.join(FOLDER_SUFFIXES)} files", file=name)
    number = 0
    for file in files:
        try:
            inner = list(iter_records(file, f"{name}/{file.name}", skip_invalid=skip_invalid))
        except ImportFailure as e:
            if not skip_invalid:
                raise
            inner = [RawRecord(1, e.line, {}, error=e)]  # a file that cannot be read at all is one bad record
        for k, rec in enumerate(inner, start=1):
            number += 1
            origin = file.name if len(inner) == 1 else f"{file.name}#{k}"
            yield RawRecord(number, rec.line, rec.data, origin=origin, error=rec.error)
            if limit and number >= limit:
                return


def _read_jsonl(path: Path, name: str, limit: int | None, skip_invalid: bool = False) -> Iterator[RawRecord]:
    loads = json.loads
    number = 0
    with path.open("rb") as f:
        # readline with a bound: one endless line must not be read into memory whole.
        for line_no, raw_line in enumerate(iter(lambda: f.readline(MAX_RECORD_BYTES + 1), b""), start=1):
            if len(raw_line) > MAX_RECORD_BYTES:
                raise ImportFailure(
                    f"the line is longer than {MAX_RECORD_BYTES // MB} MB, the most one record may take; "
                    "is this really JSON Lines?",
                    file=name,
                    record=number + 1,
                    line=line_no,
                )
            try:
                line = raw_line.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise ImportFailure(
                    f"invalid UTF-8 (byte 0x{raw_line[e.start]:02x} at column {e.start + 1}); save the file as UTF-8",
                    file=name,
                    line=line_no,
                ) from e
            if not line.strip():
                continue
            number += 1
            try:
                try:
                    value = loads(line)
                except json.JSONDecodeError as e:
                    raise ImportFailure(
                        f"not valid JSON ({e.msg} at column {e.colno}); is the line cut short?",
                        file=name,
                        record=number,
                        line=line_no,
                    ) from e
                except (ValueError, RecursionError) as e:
                    raise ImportFailure(_unreadable_json(e), file=name, record=number, line=line_no) from e
                record = RawRecord(number, line_no, _as_record(value, name, number, line_no))
            except ImportFailure as e:
                if not skip_invalid:
                    raise
                record = RawRecord(number, line_no, {}, error=e)
            yield record
            if limit and number >= limit:
                return
    if number == 0:
        raise ImportFailure("the file holds no records", file=name)


def _unreadable_json(e: Exception) -> str:
    if isinstance(e, RecursionError):
        return "not readable JSON: nested too deeply"
    return f"not readable JSON ({e})"  # e.g. an integer of more than 4,300 digits


def _read_json_array(text: str, name: str, limit: int | None) -> list[RawRecord]:
    decoder = json.JSONDecoder()
    records: list[RawRecord] = []
    pos = text.index("[") + 1
    line = text.count("\n", 0, pos) + 1
    last = pos
    n = len(text)
    ws = " \t\r\n"
    while True:
        while pos < n and text[pos] in ws:
            pos += 1
        if pos < n and text[pos] == "]":
            break
        line += text.count("\n", last, pos)
        last = pos
        number = len(records) + 1
        if pos >= n:
            raise ImportFailure("the JSON array is cut short (no closing ']')", file=name, record=number, line=line)
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise ImportFailure(
                f"not valid JSON ({e.msg}, line {e.lineno} column {e.colno}); is the file cut short?",
                file=name,
                record=number,
                line=e.lineno,
            ) from e
        except (ValueError, RecursionError) as e:
            at = text.count("\n", 0, pos) + 1
            raise ImportFailure(_unreadable_json(e), file=name, record=number, line=at) from e
        records.append(RawRecord(number, line, _as_record(value, name, number, line)))
        if limit and len(records) >= limit:
            return records
        while pos < n and text[pos] in ws:
            pos += 1
        if pos < n and text[pos] == ",":
            pos += 1
        elif pos < n and text[pos] == "]":
            break
        else:
            at = text.count("\n", 0, pos) + 1
            raise ImportFailure("the JSON array is cut short or lacks a ','", file=name, record=number + 1, line=at)
    if not records:
        raise ImportFailure("the file holds no records", file=name)
    return records


def _read_csv(text: str, name: str, limit: int | None, delimiter: str) -> Iterator[RawRecord]:
    # csv tracks physical lines, so a quoted newline inside a cell does not shift later line numbers.
    # Its default cell limit (128 kB) is below a long step; the process-wide limit is raised to ours.
    if csv.field_size_limit() < MAX_RECORD_BYTES:
        csv.field_size_limit(MAX_RECORD_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailure("the CSV file is empty", file=name) from None
    except csv.Error as e:
        raise ImportFailure(f"malformed CSV header ({e})", file=name, line=1) from e
    header = [h.strip() for h in header]
    start = reader.line_num + 1
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise ImportFailure(f"malformed CSV ({e})", file=name, record=number + 1, line=start) from e
        if not any(cell.strip() for cell in row):
            start = reader.line_num + 1
            continue
        number += 1
        if len(row) != len(header):
            raise ImportFailure(
                f"{len(row)} cells where the header names {len(header)} columns",
                file=name,
                record=number,
                line=start,
            )
        yield RawRecord(number, start, dict(zip(header, row, strict=True)))
        start = reader.line_num + 1
        if limit and number >= limit:
            return
    if number == 0:
        raise ImportFailure("the CSV file has a header but no rows", file=name)


def _read_parquet(path: Path, name: str, limit: int | None) -> list[RawRecord]:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise ImportFailure(f"not a readable Parquet file ({e})", file=name) from e
    check_file_size(unpacked, name, what="the Parquet file unpacks to")
    try:
        table = pq.read_table(path)
        if limit:
            table = table.slice(0, limit)
        # Damage can pass the checksums and show only now, e.g. as a text column that is not UTF-8.
        rows = table.to_pylist()
    except Exception as e:
        raise ImportFailure(f"not a readable Parquet file ({type(e).__name__}: {e})", file=name) from e
    if not rows:
        raise ImportFailure("the Parquet file holds no rows", file=name)
    return [RawRecord(i, None, row) for i, row in enumerate(rows, start=1)]
