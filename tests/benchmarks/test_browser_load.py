"""The many-annotators benchmark through the real servers must keep working; a small run is asserted whole:
nothing lost, nothing judged more than k times, no error shown, on one server (SQLite) and two behind nginx
(PostgreSQL)."""

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import browser_load
from benchmarks.chromium import CHROMIUM


@pytest.mark.browser
@pytest.mark.postgres
def test_a_small_crowd_loses_nothing_through_one_server_and_through_nginx(tmp_path, postgres_url):
    from tests.conftest import skip_or_fail

    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        skip_or_fail("REDLINE_REQUIRE_BROWSER", f"Chromium is not installed at {CHROMIUM}")
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        skip_or_fail("REDLINE_REQUIRE_BROWSER", "nginx is not installed (Debian's package; .ci/run installs it)")
    out = tmp_path / "figures.json"
    args = ["--annotators", "3", "--per-person", "3", "--workdir", str(tmp_path), "--out", str(out)]
    assert browser_load.main(args) == 0
    results = json.loads(out.read_text())["results"]
    assert [(r["k"], r["setup"].startswith("two servers")) for r in results] == [
        (1, False),
        (2, False),
        (1, True),
        (2, True),
    ]
    for r in results:
        assert r["made"] == 9 and r["stored"] + r["refused"] == 9, r
        assert r["lost"] == 0 and r["over_judged"] == 0 and not r["errors"], r
