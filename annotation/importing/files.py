"""Import a file into a project: detect, convert every record, then write all of it or nothing.

Conversion runs over the whole file before the first write, so a bad record is reported with
its file, record, line and field while the database stays untouched. The write itself is one
transaction. Records already in the project (same id, problem and steps) are not added again; under a named
source (``--as human:NAME`` / ``model:NAME``) a record also attaches its labels to the trace it names by record
id, or by the same problem and steps (attach.py), instead of adding a trace; one that matches no trace of a project
that has traces is added as a new trace, counted and warned about.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from itertools import chain, islice
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from annotation.core.errors import ImportFailure
from annotation.core.gc_pause import gc_paused
from annotation.core.model import InvalidValue
from annotation.core.records import judgment_from_row, trace_row
from annotation.core.spans import check_spans
from annotation.importing.attach import BY_ID, BY_TEXT, SAME, TraceMatcher
from annotation.importing.formats import FORMATS, UnknownFormat
from annotation.importing.formats.base import Adapter, ConvertContext, ConvertOptions, ImportedRecord
from annotation.importing.formats.generic import LABEL_FIELDS
from annotation.importing.formats.reading import RawRecord, iter_records
from annotation.importing.formats.storable import check_storable
from annotation.importing.images import ImageBlob
from annotation.importing.merging import merge
from annotation.judgments.writing import JudgmentWrite, StaleJudgment, record
from storage import queries, work
from storage.db import session as open_session
from storage.tables import utcnow

#: progress(stage, done, total) - stages: "reading", "checking", "writing".
Progress = Callable[[str, int, int], None]
DETECT_SAMPLE = 20


@dataclass
class ParsedFile:
    file: str
    format: str
    records: list[ImportedRecord]
    warnings: list[str] = field(default_factory=list)
    images: dict[str, ImageBlob] = field(default_factory=dict)
    # Records left out: bad ones (with skip_invalid), each with its reason; and those --where did not keep.
    skipped: list[str] = field(default_factory=list)
    not_matching: int = 0
    # Labels under a named source attach to the traces already in the project (attach.py); how the file names
    # a record's id, for messages.
    attach: bool = False
    id_field: str = "id"
    # How the file names each label field (``first_error`` -> its column), for messages.
    label_fields: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportSummary:
    file: str
    format: str
    project: str
    records: int = 0
    traces_added: int = 0
    traces_already_present: int = 0
    # Records whose labels attached to a trace already in the project: the very record imported before (the same
    # id and text), found by record id, or by problem and steps (attach.py).
    matched_same: int = 0
    matched_by_id: int = 0
    matched_by_text: int = 0
    # Records under a named source that matched no trace of a project that had traces: added as new traces.
    new_traces_unmatched: int = 0
    steps_added: int = 0
    images_added: int = 0
    skipped: list[str] = field(default_factory=list)
    not_matching: int = 0
    judgments_added: Counter = field(default_factory=Counter)
    judgments_unchanged: int = 0
    judgments_revised: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    # Error types of the file's spans and missing entries that the project's taxonomy lacked, added to it.
    taxonomy_added: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        # Not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs, counting the pairs.
        return {f.name: dict(v) if isinstance(v := getattr(self, f.name), Counter) else v for f in fields(self)}


def _estimate_records(path: Path, head: list[RawRecord]) -> int:
    """A guess at the record count for the progress bar, from the size of the first records."""
    if len(head) < DETECT_SAMPLE or not head[-1].line:
        return len(head)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            sample = sum(len(f.readline()) for _ in range(head[-1].line))
    except OSError:
        return len(head)
    return max(len(head), round(size / max(1, sample) * len(head)))


def choose_adapter(raw: list[RawRecord], fmt: str | None, file: str) -> Adapter:
    try:
        if fmt:
            return FORMATS.get(fmt)
        return FORMATS.detect([r.data for r in raw[:DETECT_SAMPLE]])
    except UnknownFormat as e:
        raise ImportFailure(str(e), file=file) from e


def parse_file(
    path: Path,
    *,
    fmt: str | None = None,
    options: ConvertOptions | None = None,
    display_name: str | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    image_dir: Path | None = None,
    skip_invalid: bool = False,
    where: dict[str, str] | None = None,
) -> ParsedFile:
    """Read and check every record (or the first ``limit``), touching no database. Image paths in records are
    read from ``image_dir`` (the file's own folder, for a file on disk), never from anywhere else.

    All or nothing by default: the first bad record stops the import, named. With ``skip_invalid`` bad records
    are left out and listed, each with its reason. ``where`` keeps only the records whose fields have these
    values (``info.task=airline`` reaches into objects)."""
    name = display_name or path.name
    if progress:
        progress("reading", 0, 1)
    # With a filter the limit counts the records kept, not those read.
    stream = iter_records(path, name, limit=None if where else limit, skip_invalid=skip_invalid)
    head = list(islice(stream, DETECT_SAMPLE))
    readable = [r for r in head if r.error is None]
    adapter = choose_adapter(readable, fmt, name)
    ctx = ConvertContext(file=name, options=options or ConvertOptions(), image_dir=image_dir)
    records: list[ImportedRecord] = []
    warned: set[str] = set()
    # Raw records are converted as they stream in, so only the converted form is held in memory.
    total = limit or _estimate_records(path, head)
    step = max(1, total // 100)
    skipped: list[str] = []
    not_matching = 0
    for i, rec in enumerate(chain(head, stream)):
        if rec.error is None and where and not matches_where(rec.data, where):
            not_matching += 1
            continue
        try:
            converted = _convert(adapter, rec, ctx, name, warned)
        except ImportFailure as e:
            if not skip_invalid:
                raise
            skipped.append(str(e))
            continue
        records.extend(converted)
        if limit and len(records) >= limit:
            del records[limit:]
            break
        if progress and i % step == 0:
            total = max(total, i + 1)
            progress("checking", i, total)
    if progress:
        progress("checking", len(records), len(records))
    if not records and (skipped or not_matching):
        why = f"all {len(skipped)} records are bad" if skipped else f"no record has {where_text(where or {})}"
        raise ImportFailure(f"nothing to import: {why}", file=name)
    return ParsedFile(
        file=name,
        format=adapter.name,
        records=records,
        warnings=ctx.warnings,
        images=ctx.images,
        skipped=skipped,
        not_matching=not_matching,
        attach=ctx.options.label_source.kind in ("human", "model"),
        id_field=adapter.file_field("id", ctx.options),
        label_fields={name: adapter.file_field(name, ctx.options) for name in LABEL_FIELDS},
    )


def _convert(
    adapter: Adapter, rec: RawRecord, ctx: ConvertContext, name: str, warned: set[str]
) -> list[ImportedRecord]:
    """One record converted (into the traces it holds, usually one) and checked; ImportFailure names its file,
    record, line and field."""
    file = f"{name}/{rec.origin}" if rec.origin else name
    if rec.error is not None:
        raise rec.error
    try:
        converted = adapter.convert_all(rec, ctx)
    except InvalidValue as e:
        raise ImportFailure(e.message, file=file, record=rec.number, line=rec.line, field=e.field) from e
    for one in converted:
        try:
            one.trace.validate()
            for j in one.judgments:
                j.validate(len(one.trace.steps))
                check_spans(one.trace, j.spans, j.missing)
            check_storable(one, warn=lambda field, message: _warn_once(ctx, warned, rec, field, message))
        except InvalidValue as e:
            field = _file_field(adapter, e.field, ctx.options)
            raise ImportFailure(e.message, file=file, record=rec.number, line=rec.line, field=field) from e
        if one.trace.record_id is None and rec.origin:
            one.trace.record_id = rec.origin  # a folder's files name their records
    return converted


def matches_where(data: dict, where: dict[str, str]) -> bool:
    for path, wanted in where.items():
        value: object = data
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or (str(value).lower() if isinstance(value, bool) else str(value)) != wanted:
            return False
    return True


def where_text(where: dict[str, str]) -> str:
    return " and ".join(f"{k} = {v!r}" for k, v in where.items())


def _file_field(adapter: Adapter, name: str, options: ConvertOptions) -> str:
    """Redline's field name as the file spells it, keeping an index or a sub-field: steps[3] -> completions[3]."""
    base, rest = re.match(r"([^.\[]*)(.*)", name, re.DOTALL).groups()
    return adapter.file_field(base, options) + rest


def _warn_once(ctx: ConvertContext, warned: set[str], rec: RawRecord, field: str, message: str) -> None:
    """One warning per field and file: a float column full of NaN must not bury the other warnings."""
    if field not in warned:
        warned.add(field)
        ctx.warn(rec, message + " (said once for this field)")


def write_parsed(
    engine: Engine, parsed: ParsedFile, *, project: str, progress: Progress | None = None
) -> ImportSummary:
    """Write a checked file into a project in one transaction."""
    project = project.strip()
    if not project:
        raise ImportFailure("give the project a name to import into", file=parsed.file)
    now = utcnow()
    # Two imports creating one new project at once: the second finds the name taken when it writes, and
    # starts again on the project the first made (once: it exists by then).
    for attempt in (1, 2):
        summary = ImportSummary(file=parsed.file, format=parsed.format, project=project, records=len(parsed.records))
        summary.warnings = list(parsed.warnings)
        summary.skipped = list(parsed.skipped)
        summary.not_matching = parsed.not_matching
        try:
            with open_session(engine) as s, s.begin():
                _write(s, parsed, project, summary, now, progress)
            return summary
        except IntegrityError:
            if attempt == 2 or not project_exists(engine, project):
                raise
        except OperationalError as e:
            if "locked" not in str(e).lower():
                raise
            raise ImportFailure(
                "another write to the database (most likely another import) took too long to finish; nothing "
                "was imported, try again when it is done",
                file=parsed.file,
            ) from None
    raise AssertionError("unreachable")


def project_exists(engine: Engine, name: str) -> bool:
    with open_session(engine) as s:
        return queries.get_project(s, name=name) is not None


def _write(s, parsed: ParsedFile, project: str, summary: ImportSummary, now, progress: Progress | None) -> None:
    """The write itself, in the caller's transaction: traces numbered after the project's last, then judgments."""
    proj = queries.ensure_project(s, name=project)
    # Imports into one project take turns: each numbers its traces after the last one's.
    queries.lock_project(s, project_id=proj.id)
    used = [x.type for rec in parsed.records for j in rec.judgments for x in (*j.spans, *j.missing)]
    new_types = [t for t in dict.fromkeys(used) if t not in (proj.taxonomy or [])]
    if new_types:
        queries.set_taxonomy(s, project_id=proj.id, taxonomy=[*(proj.taxonomy or []), *new_types])
        summary.taxonomy_added = new_types
    known = queries.trace_keys(s, project_id=proj.id)
    position = queries.next_position(s, project_id=proj.id)
    matcher = TraceMatcher(s, proj.id, parsed.records, parsed.id_field) if parsed.attach and known else None
    new_rows, new_records, old_records = [], [], []
    seen_in_file: dict[str, int] = {}  # key -> its place in new_records
    labelled: dict[int, int] = {}  # trace id -> the record whose labels it takes
    as_imported: set[int] = set()  # traces matched by the very record first imported (its steps as they were)
    for rec in parsed.records:
        key = rec.trace.key()
        # A trace whose steps were merged or split keeps the key of its first import: the same trace when its
        # steps now are the record's.
        claimed = rec.claimed_key
        if (
            claimed
            and claimed != key
            and claimed in known
            and queries.trace_steps(s, trace_id=known[claimed]) == rec.trace.steps
        ):
            key = claimed
        if key in known:  # the very record imported before: the same id (or none) and the same text
            found: tuple[int, str] | None = (known[key], SAME)
        else:
            found = matcher.match(rec, parsed.file) if matcher else None
        if found is not None:
            trace_id, how = found
            if trace_id in labelled and rec.judgments:
                summary.warnings.append(
                    f"{parsed.file}, record {rec.number}: labels for the same trace as record {labelled[trace_id]}; "
                    "the first record's were imported"
                )
                continue
            if rec.judgments:  # a record without labels claims nothing: a later one's labels still count
                labelled[trace_id] = rec.number
            if parsed.attach and rec.judgments:
                summary.matched_same += how == SAME
                summary.matched_by_id += how == BY_ID
                summary.matched_by_text += how == BY_TEXT
            # Labels of the record as first imported are for the steps as imported; those matched by id, by text
            # or by a claimed key were compared with the trace's current steps.
            if how == SAME and key == rec.trace.key():
                as_imported.add(trace_id)
            old_records.append((trace_id, rec))
            continue
        if key in seen_in_file:
            first = new_records[seen_in_file[key]]
            taken = rec.judgments and not first.judgments
            if taken:  # the first had no labels: the trace takes this record's
                first.judgments = rec.judgments
            said = "" if not rec.judgments else " with this record's labels" if taken else ", with the first's labels"
            summary.warnings.append(
                f"{parsed.file}, record {rec.number}: the same trace as record {first.number}; imported once{said}"
            )
            continue
        seen_in_file[key] = len(new_records)
        summary.new_traces_unmatched += matcher is not None
        new_rows.append(trace_row(rec.trace, project_id=proj.id, position=position, key=key, now=now))
        new_records.append(rec)
        position += 1
    if progress:
        progress("writing", 0, len(new_rows) + len(old_records))
    summary.images_added = queries.store_images(s, project_id=proj.id, images=parsed.images.values(), now=now)
    ids = queries.insert_traces(s, rows=new_rows)
    summary.traces_added = len(ids)
    summary.traces_already_present = len(old_records)
    summary.steps_added = sum(r["n_steps"] for r in new_rows)
    if summary.new_traces_unmatched:
        summary.warnings.append(
            f"{parsed.file}: {summary.new_traces_unmatched} records matched no trace already in the project and were "
            "added as new traces (with their labels); if they are about traces already here, check their record ids "
            "(and --map source_file) or their problem and steps"
        )
    resplit = queries.restructured(
        s, trace_ids=[trace_id for trace_id, rec in old_records if rec.judgments and trace_id in as_imported]
    )
    if resplit:
        kept = []
        for trace_id, rec in old_records:
            if trace_id in resplit and trace_id in as_imported and rec.judgments:
                summary.warnings.append(
                    f"{parsed.file}, record {rec.number}: an annotator merged or split this trace's steps; its labels "
                    "here are for the steps as imported, so they were left out"
                )
                continue
            kept.append((trace_id, rec))
        old_records = kept
    changed_by = f"import:{summary.file}"
    writes = [
        JudgmentWrite(trace_id, j, changed_by=changed_by)
        for trace_id, rec in zip(ids, new_records, strict=True)
        for j in rec.judgments
    ]
    writes += _merged_writes(s, parsed, old_records, changed_by)
    try:
        results = record(s, writes, now=now)
    except StaleJudgment as e:
        raise ImportFailure(
            f"a judgment changed while the file was imported ({e}); nothing was imported: import it again",
            file=parsed.file,
        ) from None
    for result in results:
        if result.outcome == "added":
            summary.judgments_added[result.source] += 1
        elif result.outcome == "revised":
            summary.judgments_revised[result.source] += 1
        else:
            summary.judgments_unchanged += 1
    if progress:
        progress("writing", len(new_rows) + len(old_records), len(new_rows) + len(old_records))


def _merged_writes(
    s, parsed: ParsedFile, old_records: list[tuple[int, ImportedRecord]], changed_by: str
) -> list[JudgmentWrite]:
    """The writes of labels for traces already in the project: a source's judgment already there takes only what
    the file carries (merging.py), written from the version read here, so a change made meanwhile is refused
    rather than overwritten."""
    trace_ids = sorted({trace_id for trace_id, rec in old_records if rec.judgments})
    work.lock_traces(s, trace_ids=trace_ids)  # before reading them: nobody changes them until the commit
    existing = {(j.trace_id, j.source_kind, j.source_name): j for j in queries.judgments_on(s, trace_ids=trace_ids)}
    writes = []
    for trace_id, rec in old_records:
        for j in rec.judgments:
            row = existing.get((trace_id, j.source.kind, j.source.name))
            if row is None:
                writes.append(JudgmentWrite(trace_id, j, changed_by=changed_by))
                continue
            try:
                merged = merge(judgment_from_row(row), j, len(rec.trace.steps))
                merged.validate(len(rec.trace.steps))
            except InvalidValue as e:
                raise ImportFailure(
                    e.message,
                    file=parsed.file,
                    record=rec.number,
                    line=rec.line,
                    field=parsed.label_fields.get(e.field, e.field),
                ) from e
            writes.append(JudgmentWrite(trace_id, merged, expected_version=row.version, changed_by=changed_by))
    return writes


def import_file(
    engine: Engine,
    path: Path,
    *,
    project: str,
    fmt: str | None = None,
    options: ConvertOptions | None = None,
    display_name: str | None = None,
    progress: Progress | None = None,
    image_dir: Path | None = None,
    skip_invalid: bool = False,
    where: dict[str, str] | None = None,
) -> ImportSummary:
    with gc_paused():
        parsed = parse_file(
            path,
            fmt=fmt,
            options=options,
            display_name=display_name,
            progress=progress,
            image_dir=image_dir,
            skip_invalid=skip_invalid,
            where=where,
        )
        return write_parsed(engine, parsed, project=project, progress=progress)
