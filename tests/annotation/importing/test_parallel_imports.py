"""Imports into one project take turns (finding 5 of the trust issue), on SQLite and PostgreSQL: positions stay
unique, so exports (which page by position) lose nothing, and two imports creating one project both land."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import export_project
from annotation.importing.files import import_file
from storage.db import make_engine, migrate, session
from storage.tables import TraceRow
from tests.utils.files import processbench_record, write_jsonl

PER_FILE = 300


def files(folder: Path, n: int) -> list[Path]:
    return [
        write_jsonl(folder / f"part-{k}.jsonl", [processbench_record(k * 10_000 + i) for i in range(PER_FILE)])
        for k in range(n)
    ]


def import_together(engine, paths: list[Path], project: str) -> list[BaseException]:
    """Each file imported by its own thread with its own engine (as separate CLI processes), all at once."""
    start = threading.Barrier(len(paths))
    errors: list[BaseException] = []

    def one(path: Path) -> None:
        own = make_engine(str(engine.url.render_as_string(hide_password=False)))
        try:
            start.wait()
            import_file(own, path, project=project)
        except BaseException as e:
            errors.append(e)
        finally:
            own.dispose()

    threads = [threading.Thread(target=one, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def positions(engine, project_id: int | None = None) -> tuple[int, int]:
    with session(engine) as s:
        query = select(func.count(TraceRow.id), func.count(func.distinct(TraceRow.position)))
        return tuple(s.execute(query).one())


def test_two_imports_into_an_existing_project_number_their_traces_apart(engine, tmp_path):
    import_file(engine, write_jsonl(tmp_path / "first.jsonl", [processbench_record(-1)]), project="p")

    errors = import_together(engine, files(tmp_path, 2), "p")

    assert errors == []
    assert positions(engine) == (2 * PER_FILE + 1, 2 * PER_FILE + 1)
    summary = export_project(engine, "p", "processbench", tmp_path / "out.jsonl", ExportOptions(source="reference"))
    assert summary.records == 2 * PER_FILE + 1  # paging by position loses no trace


def test_two_imports_creating_one_project_both_land(engine, tmp_path):
    errors = import_together(engine, files(tmp_path, 2), "new")

    assert errors == []
    assert positions(engine) == (2 * PER_FILE, 2 * PER_FILE)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_migration_renumbers_duplicate_positions_keeping_their_order(request, tmp_path, database):
    url = f"sqlite:///{tmp_path / 'old.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine, "0004")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO project (name, description, guidelines, taxonomy, judgments_per_trace, blind, "
                "label_mode, queue_order, reservation_minutes, licence, created_at) VALUES "
                "('p', '', '', '[]', 1, FALSE, 'first_error', 'import', 30, '', CURRENT_TIMESTAMP)"
            )
        )
        for key, position in [("a", 0), ("b", 1), ("c", 1), ("d", 2), ("e", 2)]:
            c.execute(
                text(
                    "INSERT INTO trace (project_id, position, content_key, problem, steps, n_steps, meta, qc, "
                    "priority, complete, created_at) VALUES (1, :p, :k, 'x', '[\"a\"]', 1, '{}', FALSE, 0, FALSE, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"p": position, "k": key},
            )
    migrate(engine)
    with engine.connect() as c:
        rows = c.execute(text("SELECT content_key, position FROM trace ORDER BY position")).all()
    assert [tuple(r) for r in rows] == [("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", 4)]
    engine.dispose()
