"""Export a project's labels as a training or evaluation dataset: the one function the Export page and CLI call.

Traces stream from the database in chunks; each gets its label (see annotation/exporting/formats/selection.py),
may be left out (with the reason counted), goes to the train or test side by its problem, and gives its
records to a writer. Files appear in their final place only once complete, with a dataset card beside them.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from annotation.core.gc_pause import gc_paused
from annotation.core.model import InvalidValue
from annotation.exporting.formats import EXPORTS, UnknownExport
from annotation.exporting.formats.base import (
    DISAGREEMENTS,
    PAIR_KINDS,
    STEP_LABEL_MODES,
    Exporter,
    ExportFailure,
    ExportItem,
    ExportOptions,
)
from annotation.exporting.formats.card import CardFacts, render_card
from annotation.exporting.formats.critique_text import CRITIC_PROMPTS
from annotation.exporting.formats.selection import choose_label, matches, parse_source, reason_to_leave_out
from annotation.exporting.formats.split import TEST, TRAIN, check_share, split_of
from annotation.exporting.formats.stream import (
    count_traces,
    iter_items,
    last_critic_template,
    project_row,
    project_shape,
    sources_in,
)
from annotation.exporting.formats.writers import (
    OUTPUTS,
    JsonlWriter,
    ParquetWriter,
    card_path,
    check_card_target,
    check_folder_target,
    data_paths,
    hf_folder,
    part_path,
    write_card,
)
from annotation.exporting.images import names_in, write_images
from annotation.judgments.visibility import ProjectView
from annotation.projects.overview import NoSuchProject

#: progress(stage, done, total) - stages: "exporting", "saving".
Progress = Callable[[str, int, int], None]
PREVIEW_SCAN = 2_000
OUTPUT_TITLES = {"jsonl": "JSON Lines", "parquet": "Parquet", "hf": "a Hugging Face datasets folder (save_to_disk)"}


@dataclass
class ExportSummary:
    project: str
    format: str
    output: str
    files: list[str] = field(default_factory=list)
    card: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    #: Image files written beside the data (``images/``).
    images: int = 0

    @property
    def records(self) -> int:
        return sum(self.facts.get("records", {}).values())

    def lines(self) -> list[str]:
        f = self.facts
        per_split = ", ".join(f"{s} {n:,}" for s, n in sorted(f["records"].items())) or "none"
        lines = [
            f"Records: {self.records:,} ({per_split}) from {sum(f['traces'].values()):,} "
            f"of {f['traces_seen']:,} traces read",
        ]
        if f["left_out"]:
            lines.append("Left out: " + "; ".join(f"{n:,} {why}" for why, n in Counter(f["left_out"]).most_common()))
        if f["record_labels"]:
            lines.append("Labels: " + "; ".join(f"{k} {n:,}" for k, n in Counter(f["record_labels"]).most_common()))
        if f["label_sources"]:
            lines.append(
                "Label sources: " + "; ".join(f"{k} {n:,}" for k, n in Counter(f["label_sources"]).most_common(8))
            )
        ties = f["agreement"].get("ties_settled_by_latest", 0)
        if ties:
            lines.append(
                f"Ties settled by the most recent judgment: {ties:,} traces where people chose different first "
                "errors equally often (choose 'ties left out' or 'leave out disagreements' to keep them out)"
            )
        if self.images:
            lines.append(f"Images: {self.images:,} files in images/ beside the data")
        return lines


def check_options(exporter: Exporter, options: ExportOptions) -> ExportOptions:
    """Options made consistent, or a clear InvalidValue naming the option."""
    options.source = parse_source(options.source)
    options.test_share = check_share(options.test_share)
    if options.step_labels not in STEP_LABEL_MODES:
        raise InvalidValue("step_labels", f"{options.step_labels!r} is not one of {', '.join(STEP_LABEL_MODES)}")
    unknown = set(options.pairs) - set(PAIR_KINDS)
    if unknown or not options.pairs:
        raise InvalidValue("pairs", f"pairs must be some of {', '.join(PAIR_KINDS)}")
    if options.disagreements not in DISAGREEMENTS:
        raise InvalidValue("disagreements", f"{options.disagreements!r} is not one of {', '.join(DISAGREEMENTS)}")
    if options.min_agreement is not None and not 0 <= options.min_agreement <= 1:
        raise InvalidValue("min_agreement", f"agreement is a share between 0 and 1, got {options.min_agreement:g}")
    if options.output not in OUTPUTS:
        raise InvalidValue("output", f"{options.output!r} is not one of {', '.join(OUTPUTS)}")
    if options.critic_prompt is not None and options.critic_prompt not in CRITIC_PROMPTS:
        raise InvalidValue("critic_prompt", f"{options.critic_prompt!r} is not one of {', '.join(CRITIC_PROMPTS)}")
    if not isinstance(options.separator, str):
        raise InvalidValue("separator", "the separator is a text (it may be empty)")
    if options.limit is not None and options.limit < 1:
        raise InvalidValue("limit", "the limit must be at least 1")
    if options.usefulness is not None:
        # Imported only here: the revision figures it reads pull in pandas and scipy, which no other export needs.
        from annotation.exporting.usefulness import FORMATS as USEFULNESS_FORMATS
        from annotation.exporting.usefulness import parse_usefulness

        parse_usefulness(options.usefulness)
        if exporter.name not in USEFULNESS_FORMATS:
            raise InvalidValue("usefulness", f"usefulness selects critiques for {', '.join(USEFULNESS_FORMATS)}")
    if exporter.name in ("dpo", "kto") and options.source.startswith("model:"):
        raise InvalidValue(
            "source", f"{exporter.name} prefers human-checked labels over critics' own: choose a non-model source"
        )
    return options


def _exporter(fmt: str) -> Exporter:
    try:
        return EXPORTS.get(fmt)
    except UnknownExport as e:
        raise ExportFailure(str(e)) from None


def _project(engine: Engine, project: str, options: ExportOptions | None = None) -> dict[str, Any]:
    """The project's row; ``options`` learn what its traces hold (tool calls, images), and the critic prompt its
    critics use when none was chosen."""
    row = project_row(engine, project)
    if row is None:
        raise NoSuchProject(f"no project named {project!r}")
    if options is not None:
        options.tools, options.images = project_shape(engine, row["id"])
        if options.critic_prompt is None:
            options.critic_prompt = default_critic_prompt(engine, row["id"])
    return row


def default_critic_prompt(engine: Engine, project_id: int) -> str:
    """ProcessBench's template when the critic last run on the project used it, so a critic trained on the export
    learns the prompt the project's critics are evaluated with; else Redline's wording for any problem."""
    return "processbench" if last_critic_template(engine, project_id) == "processbench" else "redline"


def labelled_items(
    engine: Engine,
    project_id: int,
    exporter: Exporter,
    options: ExportOptions,
    facts: CardFacts,
    view: ProjectView | None = None,
) -> Iterator[tuple[ExportItem, list[dict[str, Any]]]]:
    """Each trace that passes the filter, with the records it gives (an empty list when left out), made only from
    what ``view`` may see (judgments.visibility; None: the operator, who sees all)."""
    leave_out_unfinished = (
        exporter.leaves_out_unfinished if options.leave_out_unfinished is None else options.leave_out_unfinished
    )
    kept = 0
    items = iter_items(engine, project_id, only_submitted=options.only_submitted, view=view)
    if options.usefulness is not None:
        from annotation.exporting.usefulness import with_usefulness

        items = with_usefulness(engine, items, options.usefulness, view)
    for item in items:
        if options.where and not matches(item.trace, options.where):
            continue
        if options.limit is not None and kept >= options.limit:
            return
        kept += 1
        facts.traces_seen += 1
        choose_label(item, options)
        reason = None
        if exporter.needs_label and item.label is None:
            reason = f"no {options.source} label" if options.source != "best" else "no label"
        reason = reason or reason_to_leave_out(item, options, leave_out_unfinished)
        if reason:
            facts.left_out[reason] += 1
            yield item, []
            continue
        item.split = split_of(item.trace.problem, options.test_share)
        records = list(exporter.records_of(item, options, facts.left_out))
        facts.add_item(item, len(records))
        for record in records:
            facts.records[item.split] += 1
            label = exporter.record_label(record)
            if label:
                facts.record_labels[label] += 1
        yield item, records


def new_facts(project: dict[str, Any], exporter: Exporter, options: ExportOptions) -> CardFacts:
    return CardFacts(
        project=project["name"],
        licence=project.get("licence") or "",
        format_name=exporter.name,
        format_title=exporter.title,
        format_description=exporter.description,
        output=OUTPUT_TITLES[options.output],
        options=options,
        trainer=exporter.trainer,
        applies=tuple(
            name
            for name, used in (
                ("step_labels", exporter.uses_step_labels),
                ("conversational", exporter.uses_conversational),
                ("critic_prompt", exporter.uses_critic_prompt),
                ("separator", exporter.uses_separator(options)),
            )
            if used
        ),
    )


def preview(
    engine: Engine,
    project: str,
    fmt: str,
    options: ExportOptions,
    *,
    n: int = 5,
    max_traces: int = PREVIEW_SCAN,
    view: ProjectView | None = None,
) -> tuple[list[dict[str, Any]], CardFacts]:
    """The first ``n`` records the export would write, looking at no more than ``max_traces`` traces (a format
    that gives few records must not read a whole project on every rerun of the page); nothing is written."""
    exporter = _exporter(fmt)
    options = check_options(exporter, options)
    proj = _project(engine, project, options)
    facts = new_facts(proj, exporter, options)
    items = islice(labelled_items(engine, proj["id"], exporter, options, facts, view), max_traces)
    records = (r for _, recs in items for r in recs)
    return list(islice(records, n)), facts


def export_project(
    engine: Engine,
    project: str,
    format: str,
    out: Path,
    options: ExportOptions | None = None,
    progress: Progress | None = None,
    view: ProjectView | None = None,
) -> ExportSummary:
    """Write the project's labels in ``format`` to ``out`` (a file, or a folder for ``hf``) with a dataset card."""
    exporter = _exporter(format)
    options = check_options(exporter, options or ExportOptions())
    proj = _project(engine, project, options)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if options.output == "hf":
        check_folder_target(out)
    else:
        check_card_target(card_path(out, options.output))
    splits = [TRAIN, TEST] if options.test_share else [TRAIN]
    schema = exporter.arrow_schema(options) if options.output != "jsonl" else None
    if options.output == "hf":
        targets = {s: part_path(out.with_name(f"{out.name}-{s}.parquet")) for s in splits}
    else:
        targets = data_paths(out, options.output, splits)
    facts = new_facts(proj, exporter, options)
    total = count_traces(engine, proj["id"])
    if options.limit is not None and not options.where:
        total = min(total, options.limit)
    step = max(1, total // 100)
    writer_type = JsonlWriter if options.output == "jsonl" else ParquetWriter
    writers: dict[str, Any] = {}
    images: set[str] = set()
    try:
        for s, path in targets.items():
            writers[s] = writer_type(path, schema)
        if progress:
            progress("exporting", 0, total)
        with gc_paused():
            for i, (item, records) in enumerate(labelled_items(engine, proj["id"], exporter, options, facts, view), 1):
                writer = writers[item.split]
                for record in records:
                    writer.write(record)
                if records and exporter.writes_images:
                    images.update(names_in(item.trace))
                if progress and i % step == 0:
                    progress("exporting", min(i, total), total)
        if progress:
            progress("exporting", total, total)
        written = {s: w.close() for s, w in writers.items()}
        writers = {}
        card = render_card(facts)
        summary = ExportSummary(proj["name"], exporter.name, options.output, facts=facts.as_dict())
        if options.output == "hf":
            if progress:
                progress("saving", 0, 1)
            try:
                hf_folder(written, schema, out, card)
            finally:
                for path in written.values():
                    path.unlink(missing_ok=True)
            summary.files = [str(out)]
            summary.card = str(out / "README.md")
            summary.images = len(write_images(engine, proj["id"], images, out))
            if progress:
                progress("saving", 1, 1)
        else:
            summary.files = [str(p) for p in written.values()]
            summary.card = str(write_card(card_path(out, options.output), card))
            summary.images = len(write_images(engine, proj["id"], images, out.parent))
        return summary
    except BaseException:
        for w in writers.values():
            w.abort()
        raise


@dataclass
class Download:
    """An export packed for a browser download: one data file, or a zip when there are several."""

    name: str
    data: bytes
    mime: str
    card: str
    summary: ExportSummary


MIMES = {"jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet", "zip": "application/zip"}


def export_download(
    engine: Engine,
    project: str,
    fmt: str,
    options: ExportOptions,
    progress: Progress | None = None,
    view: ProjectView | None = None,
) -> Download:
    """Export into a temporary folder and read it back as bytes; split or folder outputs come as one zip."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{project}-{fmt}").strip("-") or "export"
    folder = Path(tempfile.mkdtemp(prefix="redline-export-"))
    try:
        suffix = "" if options.output == "hf" else f".{options.output}"
        summary = export_project(engine, project, fmt, folder / f"{stem}{suffix}", options, progress, view)
        card = Path(summary.card or "").read_text(encoding="utf-8") if summary.card else ""
        if options.output != "hf" and len(summary.files) == 1:
            path = Path(summary.files[0])
            return Download(path.name, path.read_bytes(), MIMES[options.output], card, summary)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    z.write(path, path.relative_to(folder).as_posix())
        return Download(f"{stem}.zip", buffer.getvalue(), MIMES["zip"], card, summary)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def project_sources(engine: Engine, project: str) -> list[str]:
    """The label choices a project offers: best, any human, and each source that judged its traces."""
    proj = _project(engine, project)
    found = sources_in(engine, proj["id"])
    return ["best", *(["human"] if any(s.startswith("human:") for s in found) else []), *found]
