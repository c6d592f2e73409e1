"""What an admin sets per project, and the quality-control figures they read back."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from sqlalchemy import Engine

from annotation.core.model import NO_ERROR, InvalidValue
from annotation.projects.overview import NoSuchProject
from annotation.workflow.labelling import LABEL_MODES
from annotation.workflow.queue import QUEUE_ORDERS
from storage import queries, work
from storage.db import session


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    description: str
    guidelines: str
    taxonomy: tuple[str, ...]
    label_mode: str
    judgments_per_trace: int
    blind: bool
    queue_order: str
    reservation_minutes: int
    licence: str

    def check(self) -> ProjectSettings:
        if self.label_mode not in LABEL_MODES:
            raise InvalidValue("label_mode", f"{self.label_mode!r} is not one of {', '.join(LABEL_MODES)}")
        if self.queue_order not in QUEUE_ORDERS:
            raise InvalidValue("queue_order", f"{self.queue_order!r} is not one of {', '.join(QUEUE_ORDERS)}")
        if not 1 <= self.judgments_per_trace <= 50:
            raise InvalidValue("judgments_per_trace", "ask for between 1 and 50 judgments per trace")
        if not 1 <= self.reservation_minutes <= 24 * 60:
            raise InvalidValue("reservation_minutes", "hold a trace for between 1 minute and 24 hours")
        tags = [t.strip() for t in self.taxonomy]
        if any(not t for t in tags):
            raise InvalidValue("taxonomy", "an error type needs a name")
        if len(set(tags)) != len(tags):
            raise InvalidValue("taxonomy", "each error type once")
        return self


def load_settings(engine: Engine, project: str) -> ProjectSettings:
    with session(engine) as s:
        row = queries.get_project(s, name=project)
        if row is None:
            raise NoSuchProject(f"no project named {project!r}")
        return ProjectSettings(
            description=row.description,
            guidelines=row.guidelines,
            taxonomy=tuple(row.taxonomy or ()),
            label_mode=row.label_mode,
            judgments_per_trace=row.judgments_per_trace,
            blind=row.blind,
            queue_order=row.queue_order,
            reservation_minutes=row.reservation_minutes,
            licence=row.licence,
        )


def save_settings(engine: Engine, project: str, settings: ProjectSettings) -> None:
    settings = settings.check()
    with session(engine) as s:
        row = queries.get_project(s, name=project)
        if row is None:
            raise NoSuchProject(f"no project named {project!r}")
        needed_changed = row.judgments_per_trace != settings.judgments_per_trace
        for name, value in asdict(settings).items():
            setattr(row, name, list(value) if name == "taxonomy" else value)
        s.add(row)
        s.flush()
        if needed_changed:
            work.refresh_completion(s, project_id=row.id, needed=settings.judgments_per_trace)
        s.commit()


def set_quality_control(engine: Engine, project: str, *, positions: list[int], qc: bool = True) -> int:
    """Mark traces (by import position, 0-based) as quality control; each needs a reference label."""
    with session(engine) as s:
        row = queries.get_project(s, name=project)
        if row is None:
            raise NoSuchProject(f"no project named {project!r}")
        found = work.traces_at(s, project_id=row.id, positions=positions)
        missing = sorted(set(positions) - set(found))
        if missing:
            raise InvalidValue("positions", f"no trace at position {', '.join(str(p + 1) for p in missing[:5])}")
        if qc:
            labelled = work.with_reference(s, trace_ids=list(found.values()))
            unlabelled = sorted(p for p, t in found.items() if t not in labelled)
            if unlabelled:
                raise InvalidValue(
                    "positions",
                    "quality control needs a reference label; trace "
                    + ", ".join(f"#{p + 1}" for p in unlabelled[:5])
                    + " has none",
                )
        work.set_qc(s, trace_ids=list(found.values()), qc=qc)
        s.commit()
        return len(found)


@dataclass(frozen=True, slots=True)
class QualityRow:
    annotator: str
    judged: int
    first_error_matches: int
    verdict_matches: int

    @property
    def accuracy(self) -> float:
        return self.first_error_matches / self.judged if self.judged else 0.0

    @property
    def error_detection(self) -> float:
        """Share where the annotator agrees with the reference on whether there is an error at all."""
        return self.verdict_matches / self.judged if self.judged else 0.0


def quality_control(engine: Engine, project: str) -> tuple[int, list[QualityRow]]:
    """(number of QC traces, per annotator: how many they judged and how many match the reference)."""
    with session(engine) as s:
        row = queries.get_project(s, name=project)
        if row is None:
            raise NoSuchProject(f"no project named {project!r}")
        n_qc, pairs = work.qc_pairs(s, project_id=row.id)
    table: dict[str, list[int]] = {}
    for annotator, mine, reference in pairs:
        entry = table.setdefault(annotator, [0, 0, 0])
        entry[0] += 1
        entry[1] += int(mine == reference)
        entry[2] += int((mine == NO_ERROR) == (reference == NO_ERROR))
    return n_qc, [QualityRow(a, *v) for a, v in sorted(table.items())]


def parse_positions(text: str) -> list[int]:
    """'1-3, 7' (as people count) -> [0, 1, 2, 6]."""
    positions: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", part)
        if not match:
            raise InvalidValue("positions", f"{part!r} is not a number or a range such as 3-7")
        start, end = int(match[1]), int(match[2] or match[1])
        if start < 1 or end < start or end - start > 100_000:
            raise InvalidValue("positions", f"{part!r} is not a range of trace numbers from 1")
        positions.update(range(start - 1, end))
    return sorted(positions)
