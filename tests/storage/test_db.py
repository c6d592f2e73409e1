"""The engine, pragmas and migrations, on SQLite and PostgreSQL alike."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from storage.config import DEFAULT_DATABASE_URL, Settings, normalise_url
from storage.db import alembic_config, make_engine, migrate


def test_sqlite_pragmas_hold_on_every_connection(sqlite_engine):
    for _ in range(3):
        with sqlite_engine.connect() as c:
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert c.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        sqlite_engine.dispose()  # force a brand-new connection next time


def test_migrations_match_the_tables_and_rerun_safely(engine):
    migrate(engine)  # a second start changes nothing
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
        assert diff == [], f"tables and migrations disagree: {diff}"
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    assert {"project", "trace", "judgment", "judgment_revision", "app_user", "draft"} <= set(
        inspect(engine).get_table_names()
    )


def test_upgrading_an_old_database_keeps_every_row(tmp_path):
    # SQLite rebuilds a table to alter it; a cascade on that rebuild once deleted every trace.
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0001")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO project (name, description, guidelines, taxonomy, judgments_per_trace, "
                "annotators_see_others, created_at) VALUES ('p', '', '', '[]', 2, 1, CURRENT_TIMESTAMP), "
                "('q', '', '', '[]', 1, 0, CURRENT_TIMESTAMP)"
            )
        )
        c.execute(
            text(
                "INSERT INTO trace (project_id, position, content_key, problem, steps, n_steps, meta, created_at) "
                "VALUES (1, 0, 'k', 'x', '[\"a\"]', 1, '{}', CURRENT_TIMESTAMP)"
            )
        )
        c.execute(
            text(
                "INSERT INTO judgment (trace_id, source_kind, source_name, first_error, steps, status, extra, "
                "version, created_at, updated_at) VALUES "
                "(1, 'human', 'ann', 0, '[]', 'submitted', '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    migrate(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT blind FROM project WHERE name = 'q'")).scalar() == 1  # saw no one else's
        assert c.execute(text("SELECT judgments_per_trace, blind, label_mode FROM project WHERE name = 'p'")).one() == (
            2,
            0,
            "first_error",
        )
        assert c.execute(text("SELECT count(*) FROM trace WHERE qc = 0")).scalar() == 1
        # One human judgment of the two the project asks for: not complete yet.
        assert c.execute(text("SELECT complete FROM trace")).scalar() == 0
        assert c.execute(text("SELECT first_error FROM judgment")).scalar() == 0
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_default_url_is_a_sqlite_file_under_data(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert Settings(_env_file=None).database_url == DEFAULT_DATABASE_URL == "sqlite:///./data/redline.db"


def test_postgres_urls_use_psycopg(monkeypatch):
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert Settings(_env_file=None).database_url == "postgresql+psycopg://u@h/db"


def test_sqlite_folder_is_created(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'x.db'}")
    with engine.connect():
        pass
    assert (tmp_path / "deep" / "er" / "x.db").exists()
