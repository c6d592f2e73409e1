"""PostgreSQL out of reach for a while (a throwaway database closed to connections, its sessions terminated):
the domain functions raise a catchable error that changes nothing, and the same engine works again after."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from annotation.accounts.sign_in_limits import limited_sign_in
from annotation.accounts.users import Account, create_user
from annotation.importing.files import import_file
from annotation.judgments.history import trace_history
from annotation.ops.outage import MESSAGE, UNAVAILABLE, is_unavailable
from annotation.ops.startup import prepare
from annotation.projects.overview import list_overviews
from annotation.workflow.workbench import open_trace, save_draft
from tests.conftest import POSTGRES_URL, skip_or_fail
from tests.utils.files import processbench_record, write_jsonl
from tests.utils.projects import make_project


@pytest.fixture
def outage() -> Iterator[tuple[Engine, Callable[[], None], Callable[[], None]]]:
    """An engine on a database of its own, and functions that take it down and bring it back."""
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except Exception:
        skip_or_fail("REDLINE_REQUIRE_POSTGRES", f"PostgreSQL is not reachable at {POSTGRES_URL}")
    name = f"redline_outage_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    engine = prepare(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))

    def down() -> None:
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})

    def up() -> None:
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

    try:
        yield engine, down, up
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_while_down_every_call_fails_clearly_and_changes_nothing_then_works_again(outage, tmp_path: Path):
    engine, down, up = outage
    rules = make_project(engine, tmp_path, traces=4)
    create_user(engine, username="ann", password="a-long-password")
    opened = open_trace(engine, trace_id=1, username="ann", rules=rules, is_admin=False)
    typed = replace(opened.work, critique="typed while the database was away")
    more = write_jsonl(tmp_path / "more.jsonl", [processbench_record(i) for i in range(100, 110)])

    down()
    calls = {
        "list projects": lambda: list_overviews(engine),
        "import": lambda: import_file(engine, more, project="p"),
        "save a draft": lambda: save_draft(engine, opened, username="ann", copy=typed),
        "sign in": lambda: limited_sign_in(engine, username="ann", password="a-long-password"),
        "history": lambda: trace_history(engine, 1, Account("root", "admin")),
    }
    for what, call in calls.items():
        with pytest.raises(UNAVAILABLE) as raised:
            call()
        assert is_unavailable(raised.value), what
        assert "not currently accepting connections" in str(raised.value), what
    assert "cannot be reached" in MESSAGE

    up()
    # The same engine, no restart: dead pooled connections are replaced (pool_pre_ping).
    assert [(o.name, o.traces) for o in list_overviews(engine)] == [("p", 4)]  # the import did not half-land
    save_draft(engine, opened, username="ann", copy=typed)  # the page kept the work; saving it again stores it
    reopened = open_trace(engine, trace_id=1, username="ann", rules=rules, is_admin=False)
    assert reopened.work.critique == "typed while the database was away"
    assert import_file(engine, more, project="p").traces_added == 10


@pytest.mark.postgres
def test_terminated_sessions_are_replaced_without_an_error(outage, tmp_path: Path):
    engine, down, up = outage
    make_project(engine, tmp_path, traces=2)
    down()
    up()  # every pooled connection is dead now, but the database is back
    assert [(o.name, o.traces) for o in list_overviews(engine)] == [("p", 2)]


def test_refused_data_is_not_taken_for_an_outage(sqlite_engine):
    from sqlalchemy.exc import IntegrityError

    create_user(sqlite_engine, username="ann", password="a-long-password")
    with pytest.raises(IntegrityError) as raised, sqlite_engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO app_user (username, role, active, display_name, created_at) "
                "VALUES ('ann', 'annotator', true, '', CURRENT_TIMESTAMP)"
            )
        )
    assert not is_unavailable(raised.value)
