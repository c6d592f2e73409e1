"""Labels made elsewhere, attached to the traces already in a project instead of becoming new traces.

An import under a named source (``--as human:NAME`` or ``model:NAME``) matches each record that is not the very
trace already imported (same id and text: the same record) to one trace:

- by its record id: among the traces of the file the record names (``--map source_file``); when the file names
  none (its source file is the labels file's own name), among every trace of the project with that id, those
  of a file of the labels file's name first. One trace with the id and a different text is refused with both
  named, never attached to the wrong steps, nor added as a new trace; several with the id, none or more than one
  of them with the record's text, are refused asking for the source file;
- else by the same problem and steps (whitespace aside); a record matching several traces by text alone is
  refused too.

Both compare with the trace's current steps (after any merge or split). A record that matches nothing is a new
trace (files.py counts and names those).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from annotation.core.errors import ImportFailure
from annotation.core.model import Trace
from annotation.importing.formats.base import ImportedRecord
from storage import queries

SAME, BY_ID, BY_TEXT = "the same id and text", "by record id", "by problem and steps"


def _words(text: str) -> str:
    return " ".join(text.split())


def text_identity(problem: str, steps: list[str]) -> str:
    """The problem and steps, whitespace aside, as one hash."""
    blob = json.dumps([_words(problem), [_words(s) for s in steps]], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Candidate:
    trace_id: int
    position: int
    record_id: str | None
    source_file: str | None
    identity: str
    restructured: bool
    # The texts, kept only for traces found by record id (to say how a record differs from its trace).
    problem: str | None = None
    steps: tuple[str, ...] = ()

    def named(self) -> str:
        origin = f"record {self.record_id!r} of {self.source_file}" if self.record_id else self.source_file or "?"
        return f"trace {self.position + 1} of the project ({origin})"


def _candidate(row: Any, *, texts: bool = False) -> Candidate:
    trace_id, position, record_id, source_file, problem, steps, steps_version = row
    steps = list(steps or [])
    identity = text_identity(problem, steps)
    restructured = (steps_version or 1) > 1
    if not texts:
        return Candidate(trace_id, position, record_id, source_file, identity, restructured)
    return Candidate(trace_id, position, record_id, source_file, identity, restructured, problem, tuple(steps))


def _shown(found: list[Candidate]) -> str:
    return "; ".join(c.named() for c in found[:5]) + ("; ..." if len(found) > 5 else "")


class TraceMatcher:
    """Finds, for the records of one file, the traces of a project they are about."""

    def __init__(self, s: Session, project_id: int, records: list[ImportedRecord], id_field: str = "id") -> None:
        self._s, self._project_id = s, project_id
        self.id_field = id_field
        ids = [r.trace.record_id for r in records if r.trace.record_id]
        self._by_id: dict[str, list[Candidate]] = defaultdict(list)
        for row in queries.traces_with_record_ids(s, project_id=project_id, record_ids=ids):
            c = _candidate(row, texts=True)
            self._by_id[c.record_id].append(c)
        self._by_text: dict[str, list[Candidate]] | None = None  # read only when a record needs it

    def _texts(self) -> dict[str, list[Candidate]]:
        if self._by_text is None:
            self._by_text = defaultdict(list)
            for row in queries.iter_trace_identities(self._s, project_id=self._project_id):
                c = _candidate(row)
                self._by_text[c.identity].append(c)
        return self._by_text

    def match(self, rec: ImportedRecord, file: str) -> tuple[int, str] | None:
        """The trace the record is about and how it was found; None when it is about no trace of the project."""
        trace = rec.trace
        identity = text_identity(trace.problem, trace.steps)
        if trace.record_id and (found := self._by_record_id(rec, file, identity)) is not None:
            return found, BY_ID
        found = self._texts().get(identity, [])
        if len(found) == 1:
            return found[0].trace_id, BY_TEXT
        if len(found) > 1:
            raise ImportFailure(
                f"the same problem and steps as {len(found)} traces already in the project ({_shown(found)}): map "
                "the record id (and its source_file) to say which one these labels are for",
                file=file,
                record=rec.number,
                line=rec.line,
            )
        return None

    def _by_record_id(self, rec: ImportedRecord, file: str, identity: str) -> int | None:
        """The one trace the record's id names; None when no trace has it (in the file the record names)."""
        trace = rec.trace
        named = self._by_id.get(trace.record_id, [])
        file_named = trace.source_file not in (None, file)  # --map source_file gave the file the id belongs to
        if file_named:
            named = [c for c in named if c.source_file == trace.source_file]
        elif len(named) > 1:
            named = [c for c in named if c.source_file == file] or named
        if not named:
            return None
        same = [c for c in named if c.identity == identity]
        if len(same) == 1:
            return same[0].trace_id
        if len(named) == 1:
            raise _different_text(rec, file, named[0], self.id_field, file_named)
        of = f" of {trace.source_file}" if file_named else ""
        which = f"{len(same)} of them with its problem and steps" if same else "none with its problem and steps"
        ask = (
            "check that the ids belong to this project's traces"
            if file_named
            else "map the file each id belongs to (--map source_file=FIELD) to say which"
        )
        raise ImportFailure(
            f"record id {trace.record_id!r}{of} names {len(named)} traces of the project ({_shown(named)}), {which}; "
            f"nothing was imported: {ask}",
            file=file,
            record=rec.number,
            line=rec.line,
            field=self.id_field,
        )


def _difference(trace: Trace, c: Candidate) -> str:
    """How the record's text differs from the trace's (whitespace aside), as a person would look for it."""
    if _words(trace.problem) != _words(c.problem or ""):
        return "its problem differs from that trace's"
    if len(trace.steps) != len(c.steps):
        return f"it has {len(trace.steps)} steps, that trace {len(c.steps)}"
    k = next((i for i, (a, b) in enumerate(zip(trace.steps, c.steps, strict=True)) if _words(a) != _words(b)), 0)
    return f"its step {k + 1} differs from that trace's"


def _different_text(rec: ImportedRecord, file: str, c: Candidate, id_field: str, file_named: bool) -> ImportFailure:
    trace = rec.trace
    why = " (an annotator merged or split its steps since it was imported)" if c.restructured else ""
    of = f" of {trace.source_file}" if file_named else ""
    return ImportFailure(
        f"record id {trace.record_id!r}{of} names {c.named()}, but {_difference(trace, c)}{why}; nothing was "
        "imported: check that the ids belong to this project's traces",
        file=file,
        record=rec.number,
        line=rec.line,
        field=id_field,
    )
