"""Two app servers starting at once on one fresh PostgreSQL database both come up (migrations serialised)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT

# Four at once: without the migration lock, at least one of them failed in every run tried.
SERVERS = 4


@pytest.mark.postgres
def test_servers_starting_together_on_a_fresh_database_all_start(postgres_url):
    start = f"from annotation.ops.startup import prepare; prepare({postgres_url!r}).dispose()"
    servers = [
        subprocess.Popen([sys.executable, "-c", start], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(SERVERS)
    ]
    outcomes = [(p.communicate()[1], p.returncode) for p in servers]
    assert [err.strip().splitlines()[-1:] for err, code in outcomes if code != 0] == []
    engine = create_engine(postgres_url)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()
