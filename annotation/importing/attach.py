"""Labels made elsewhere, attached to the traces already in a project instead of becoming new traces.

An import under a named source (``--as human:NAME`` or ``model:NAME``) matches each record that is not the very
trace already imported (same key) to one trace: by its record id and source file, else by the same problem and
steps (whitespace aside). An id and file that name a trace whose text differs is refused with both named, never
attached to the wrong steps; a record matching several traces by text alone is refused too.
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

BY_ID, BY_TEXT = "by record id and file", "by problem and steps"


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

    def named(self) -> str:
        origin = f"record {self.record_id!r} of {self.source_file}" if self.record_id else self.source_file or "?"
        return f"trace {self.position + 1} of the project ({origin})"


def _candidate(row: Any) -> Candidate:
    trace_id, position, record_id, source_file, problem, steps, steps_version = row
    identity = text_identity(problem, list(steps or []))
    return Candidate(trace_id, position, record_id, source_file, identity, (steps_version or 1) > 1)


class TraceMatcher:
    """Finds, for the records of one file, the traces of a project they are about."""

    def __init__(self, s: Session, project_id: int, records: list[ImportedRecord], id_field: str = "id") -> None:
        self._s, self._project_id = s, project_id
        self.id_field = id_field
        ids = [r.trace.record_id for r in records if r.trace.record_id]
        self._by_id: dict[tuple[str, str | None], list[Candidate]] = defaultdict(list)
        for row in queries.traces_with_record_ids(s, project_id=project_id, record_ids=ids):
            c = _candidate(row)
            self._by_id[(c.record_id, c.source_file)].append(c)
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
        named = self._by_id.get((trace.record_id, trace.source_file), []) if trace.record_id else []
        if named:
            same = [c for c in named if c.identity == identity]
            if not same:
                raise _different_text(rec, trace, file, named[0], self.id_field)
            return same[0].trace_id, BY_ID
        found = self._texts().get(identity, [])
        if len(found) == 1:
            return found[0].trace_id, BY_TEXT
        if len(found) > 1:
            shown = "; ".join(c.named() for c in found[:5]) + ("; ..." if len(found) > 5 else "")
            raise ImportFailure(
                f"the same problem and steps as {len(found)} traces already in the project ({shown}): map the "
                "record id (and its source_file) to say which one these labels are for",
                file=file,
                record=rec.number,
                line=rec.line,
            )
        return None


def _different_text(rec: ImportedRecord, trace: Trace, file: str, c: Candidate, id_field: str) -> ImportFailure:
    why = " (an annotator merged or split its steps since it was imported)" if c.restructured else ""
    return ImportFailure(
        f"record id {trace.record_id!r} of {trace.source_file} names {c.named()}, but its problem or steps differ "
        f"from that trace's{why}; nothing was imported: check that the ids belong to this project's traces",
        file=file,
        record=rec.number,
        line=rec.line,
        field=id_field,
    )
