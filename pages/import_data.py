"""Import: pick a file and a project, check how the file reads, then write it to the database in one go."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from annotation.core.errors import ImportFailure
from annotation.core.model import REFERENCE, InvalidValue, Source
from annotation.importing.files import ParsedFile, import_file, parse_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.conversation import STEPS_PER
from annotation.importing.formats.generic import JOIN, JOINABLE, MAPPABLE, BaseEvidence, FieldMapping
from annotation.importing.formats.processbench import DEFAULT_PREDICTIONS_SOURCE
from annotation.importing.formats.step_split import RULES
from annotation.importing.preview import (
    FileSample,
    chosen_format,
    default_no_error_text,
    format_choices,
    format_title,
    guess_column,
    inspect_file,
    parse_no_error_values,
    preview_traces,
    step_base_in_file,
    summary_lines,
)
from annotation.importing.server_paths import OutsideImportFolder, import_dir, resolve_typed_path
from annotation.projects.overview import project_names
from annotation.workflow.surface import shown_steps
from pages.auth import require_admin
from pages.common import get_engine, md_escape, save_upload

UPLOAD_TYPES = ["json", "jsonl", "csv", "tsv", "parquet"]
PREVIEW_RECORDS = 5
NO_COLUMN = "(none)"
REGEX_RULE = "regex:PATTERN"
NEW_PROJECT = "New project…"
CONVERSATION_FORMATS = ("openai-messages", "anthropic-messages")
STEPS_PER_LABELS = {
    "turn": "one assistant turn with the tool results it received (agents)",
    "message": "one message per step",
}


@st.cache_data(max_entries=8, show_spinner=False)
def sample_of(path: Path, name: str, version: tuple[float, int]) -> FileSample:
    """The file's first records, read once per version (mtime, size) rather than on every rerun."""
    return inspect_file(path, name)


@st.cache_data(max_entries=16, show_spinner=False)
def preview_of(
    path: Path,
    name: str,
    version: tuple[float, int],
    fmt: str,
    options: ConvertOptions,
    image_dir: Path | None,
    skip_invalid: bool = False,
    where: dict[str, str] | None = None,
) -> ParsedFile:
    return parse_file(
        path,
        fmt=fmt,
        options=options,
        display_name=name,
        limit=PREVIEW_RECORDS,
        image_dir=image_dir,
        skip_invalid=skip_invalid,
        where=where or None,
    )


@st.cache_data(max_entries=16, show_spinner="Reading the first-error column…")
def base_of(path: Path, name: str, version: tuple[float, int], mapping: FieldMapping) -> BaseEvidence | None:
    """What the whole file proves of how its first-error column counts steps."""
    try:
        return step_base_in_file(path, mapping, name)
    except ImportFailure:
        return None  # the preview says what is wrong with the file


def file_version(path: Path) -> tuple[float, int]:
    stat = path.stat()
    return stat.st_mtime, stat.st_size


def choose_file() -> tuple[Path, str, Path | None] | None:
    """The file to read, by upload or by a path on the server, with the name to show in messages and the folder
    its image paths are read from (none for an upload: it arrives alone)."""
    upload_col, path_col = st.columns(2)
    uploaded = upload_col.file_uploader("Upload a file", type=UPLOAD_TYPES, key="import_upload")
    typed = path_col.text_input(
        "…or a path on the server",
        key="import_path",
        placeholder="processbench/gsm8k.json",
        help=f"Read in place from the import folder {import_dir()}: useful for files too big to upload.",
    ).strip()
    if uploaded is not None:
        return save_upload(uploaded.file_id, uploaded.name, uploaded.getvalue()), uploaded.name, None
    if not typed:
        return None
    try:
        path = resolve_typed_path(typed)
    except OutsideImportFolder as e:
        st.error(md_escape(str(e)), icon=":material/block:")
        return None
    return path, path.name, path.parent


def choose_project(engine: Engine) -> str | None:
    """An existing project, or a new one by name; None until there is a name."""
    names = project_names(engine)
    choice = st.selectbox("Project", [NEW_PROJECT, *names], key="import_project")
    if choice != NEW_PROJECT:
        return choice
    typed = st.text_input("New project name", key="import_new_project", placeholder="e.g. ProcessBench GSM8K")
    return typed.strip() or None


def choose_format(sample: FileSample) -> str | None:
    """The format to read the file as; None when it must still be chosen by hand."""
    choice = st.selectbox(
        "Format",
        format_choices(),
        key="import_format",
        help="Auto-detect looks at the fields of the first records; 'generic' reads any file through a mapping.",
    )
    fmt = chosen_format(choice)
    if fmt is None and sample.detected:
        st.success(f"Detected format: {format_title(sample.detected)}", icon=":material/check_circle:")
        return sample.detected
    if fmt is None:
        # Not a red error with a Python list: the file's fields, a value of each, and the mapping form to read them.
        st.warning(
            "None of the known formats matches this file's fields. Map them below (the 'generic' reader), or "
            "choose a format above.",
            icon=":material/table_view:",
        )
        st.dataframe(
            pd.DataFrame(
                {"field": sample.columns, "a value from the file": [sample.samples.get(c, "") for c in sample.columns]}
            ),
            hide_index=True,
            key="import_fields",
        )
        return "generic"
    if sample.detected and sample.detected != fmt:
        st.caption(f"The records look like {format_title(sample.detected)}.")
    return fmt


def parse_source(label: str, text: str) -> Source | None:
    try:
        return Source.parse(text)
    except InvalidValue as e:
        st.error(f"{label}: {md_escape(e.message)}")
        return None


def choose_mapping(columns: list[str], path: Path, name: str) -> FieldMapping | None:
    """Which of the file's columns holds each of Redline's fields, and how to split a text into steps."""
    st.markdown("**Field mapping**")
    options = [NO_COLUMN, *columns]
    grid = st.columns(3)
    chosen: dict[str, str | None] = {}
    for i, field_name in enumerate(MAPPABLE):
        guess = guess_column(field_name, columns)
        column = grid[i % 3].selectbox(
            field_name.replace("_", " "),
            options,
            index=options.index(guess) if guess else 0,
            key=f"import_map_{field_name}",
        )
        chosen[field_name] = None if column == NO_COLUMN else column
    with st.expander("Build a text field from several columns"):
        st.caption("The columns are joined in order, a blank line between them (as `--map problem=Question+Options`).")
        for field_name in JOINABLE:
            if chosen[field_name] is None:
                continue
            more = st.multiselect(
                f"After {chosen[field_name]}, also put in {field_name.replace('_', ' ')}",
                [c for c in columns if c != chosen[field_name]],
                key=f"import_join_{field_name}",
            )
            if more:
                chosen[field_name] = JOIN.join([chosen[field_name], *more])
    split_col, base_col, no_error_col = st.columns(3)
    rule = split_col.selectbox("Split a text into steps by", RULES, key="import_step_split")
    if rule == REGEX_RULE:
        pattern = split_col.text_input("Regex between steps", key="import_step_regex", placeholder=r"\n(?=\d+\.)")
        rule = f"regex:{pattern}"
    chosen_base = base_col.radio(
        "First error counts steps from",
        (0, 1),
        index=None,
        key="import_first_error_base",
        horizontal=True,
        help="0 when the first step is step 0 in the file, 1 when it is step 1. Read from the file when it shows it.",
    )
    no_error = no_error_col.text_input(
        "First-error values meaning 'no error'",
        value=default_no_error_text(),
        key="import_no_error",
        help="Comma-separated.",
    )
    pattern = no_error_col.text_input(
        "First error written as text: pattern",
        key="import_first_error_pattern",
        placeholder=r"Step (\d+)",
        help="A regular expression whose first group is the step number, for a column like 'Step 4 is wrong'.",
    ).strip()
    try:
        mapping = FieldMapping(
            **chosen,
            step_split=rule,
            first_error_base=chosen_base or 0,
            no_error_values=parse_no_error_values(no_error),
            first_error_pattern=pattern or None,
        )
    except InvalidValue as e:
        st.error(f"Field mapping: {md_escape(e.message)}")
        return None
    if mapping.first_error is None or chosen_base is not None:
        return mapping  # no first-error column, or the person said (their choice stays)
    evidence = base_of(path, name, file_version(path), mapping)
    if evidence is None:
        base_col.info("The file does not show whether its first errors count from 0 or 1: choose above.")
        return None
    base_col.caption(f"Counted from {evidence.base}: {md_escape(evidence.reason)}.")
    return replace(mapping, first_error_base=evidence.base)


def choose_options(sample: FileSample, fmt: str, path: Path, name: str) -> ConvertOptions | None:
    """Whose labels the file carries, and for a generic file the mapping; None while something is invalid."""
    label_source = parse_source(
        "Labels source",
        st.text_input(
            "Whose labels does the file carry?",
            value=str(REFERENCE),
            key="import_as",
            help="reference, model:NAME or human:NAME",
        ),
    )
    predictions_source = None
    if fmt == "processbench" and sample.has_predictions:
        predictions_source = parse_source(
            "Predictions source",
            st.text_input(
                "Whose predictions does the file carry?",
                value=str(DEFAULT_PREDICTIONS_SOURCE),
                key="import_predictions_as",
                help="This file is ProcessBench evaluation output: its predictions become a model judgment.",
            ),
        )
        if predictions_source is None:
            return None
    mapping = choose_mapping(sample.columns, path, name) if fmt == "generic" else None
    if label_source is None or (fmt == "generic" and mapping is None):
        return None
    answer_split = "whole"
    if fmt == "fgrlhf":
        answer_split = st.radio(
            "The judged answer (prediction 1) as",
            ("whole", "sentences"),
            format_func={"whole": "one step", "sentences": "one step per sentence"}.get,
            horizontal=True,
            key="import_answer_split",
            help="Either way, span offsets are kept into the whole answer and exported back exactly.",
        )
    steps_per = "turn"
    if fmt in CONVERSATION_FORMATS or fmt == "generic":
        steps_per = st.radio(
            "A conversation's steps",
            STEPS_PER,
            format_func=STEPS_PER_LABELS.get,
            horizontal=True,
            key="import_steps_per",
            help="How a list of messages becomes steps. Labels given per message land on the step holding it.",
        )
    return ConvertOptions(
        label_source=label_source,
        predictions_source=predictions_source,
        mapping=mapping,
        steps_per=steps_per,
        messages_field=mapping.steps if mapping is not None else None,
        answer_split=answer_split,
    )


def show_preview(
    path: Path,
    name: str,
    fmt: str,
    options: ConvertOptions,
    image_dir: Path | None = None,
    skip_invalid: bool = False,
    where: dict[str, str] | None = None,
) -> ParsedFile | None:
    """The first records as they will be imported. Their text is the file's: shown as plain text only."""
    st.subheader("Preview")
    try:
        parsed = preview_of(path, name, file_version(path), fmt, options, image_dir, skip_invalid, where or {})
    except ImportFailure as e:
        st.error(md_escape(str(e)))
        return None
    st.caption(f"The first {len(parsed.records)} records read as {format_title(parsed.format)}.")
    for i, trace in enumerate(preview_traces(parsed)):
        with st.expander(f"Record {trace.record}", expanded=i == 0):
            if trace.record_id:
                st.text(f"id: {trace.record_id}")
            st.markdown("**Problem**")
            st.text(trace.problem)
            for k, step in enumerate(shown_steps(trace.steps), start=1):
                st.markdown(f"**Step {k}**")
                st.text(step)
            st.markdown("**First error**")
            for judgment in trace.judgments:
                st.text(f"{judgment.source}: {judgment.first_error}")
            if not trace.judgments:
                st.text("no labels in this record")
    for warning in parsed.warnings:
        st.warning(md_escape(warning))
    for reason in parsed.skipped:
        st.warning("Left out: " + md_escape(reason), icon=":material/block:")
    return parsed


def choose_filters() -> tuple[bool, dict[str, str]] | None:
    """Which records to import: only those with given values, and whether bad ones stop the import."""
    where_col, skip_col = st.columns(2)
    typed = where_col.text_input(
        "Keep only records where",
        key="import_where",
        placeholder="info.domain=airline",
        help="FIELD=VALUE, several separated by commas; a.b reaches into objects.",
    )
    skip = skip_col.checkbox(
        "Leave out bad records (each is listed with its reason)",
        key="import_skip_invalid",
        help="Otherwise the first bad record stops the import and nothing is written.",
    )
    where: dict[str, str] = {}
    for pair in (p.strip() for p in typed.split(",")):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            where_col.error(f"{md_escape(pair)}: write FIELD=VALUE")
            return None
        where[key.strip()] = value.strip()
    return skip, where


def run_import(
    engine: Engine,
    path: Path,
    name: str,
    project: str | None,
    fmt: str,
    options: ConvertOptions,
    image_dir: Path | None = None,
    skip_invalid: bool = False,
    where: dict[str, str] | None = None,
) -> None:
    """Check the whole file, then write all of it or nothing, with a progress bar. The button is there from the
    start; without a project to import into it is disabled, and says why."""
    missing = (
        "Type a name for the new project above (then Enter, or click elsewhere) to import." if not project else None
    )
    clicked = st.button(
        "Import", key="import_run", type="primary", icon=":material/upload:", disabled=missing is not None, help=missing
    )
    if missing:
        st.caption(missing)
    if not clicked or project is None:
        return
    bar = st.progress(0.0, text="Starting…")

    def progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"{stage.capitalize()}: {done} of {total}")

    try:
        summary = import_file(
            engine,
            path,
            project=project,
            fmt=fmt,
            options=options,
            display_name=name,
            progress=progress,
            image_dir=image_dir,
            skip_invalid=skip_invalid,
            where=where,
        )
    except ImportFailure as e:
        bar.empty()
        st.error(md_escape(str(e)))
        st.caption("Nothing was imported: the database is unchanged.")
        return
    bar.progress(1.0, text="Done")
    st.success(
        f"Imported {md_escape(summary.file)} ({summary.format}) into project {md_escape(summary.project)}.",
        icon=":material/check_circle:",
    )
    for line in summary_lines(summary):
        st.text(line)
    for warning in summary.warnings:
        st.warning(md_escape(warning))


def import_page() -> None:
    # Admins only: the page reads files by server path and writes projects.
    require_admin()
    st.title("Import")
    st.write(
        "Bring in a file of reasoning traces, with any labels it carries. The whole file is checked before "
        "anything is written: a bad record is reported with its line, and the database stays as it was."
    )
    engine = get_engine()
    chosen = choose_file()
    if chosen is None:
        st.info("Upload a file or give a path on the server to begin.", icon=":material/info:")
        return
    path, name, image_dir = chosen
    try:
        sample = sample_of(path, name, file_version(path))
    except ImportFailure as e:
        st.error(md_escape(str(e)))
        return
    project = choose_project(engine)
    fmt = choose_format(sample)
    if fmt is None:
        return
    options = choose_options(sample, fmt, path, name)
    if options is None:
        return
    filters = choose_filters()
    if filters is None:
        return
    skip_invalid, where = filters
    parsed = show_preview(path, name, fmt, options, image_dir, skip_invalid, where)
    if parsed is None:
        return
    run_import(engine, path, name, project, fmt, options, image_dir, skip_invalid, where)


import_page()
