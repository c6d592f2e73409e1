"""Many annotators at once, bounded for CI: 32 threads on SQLite, on PostgreSQL, and in two app processes,
writing through Annotate's queue, by URL, through Check critiques and through adjudication.

The full run (32 x 100 submissions each) is ``python -m benchmarks.load_test``; here each takes a few.
Each backend and overlap runs once; the tests below read its figures.
"""

from __future__ import annotations

import pytest

from benchmarks import load_test
from tests.conftest import POSTGRES_URL, _postgres_available, skip_or_fail

ANNOTATORS, SUBMISSIONS = 32, 4
# 32 annotators, as in the full run, so the contention is real; few submissions each, to stay bounded.
SMALL = [
    *("--annotators", str(ANNOTATORS), "--submissions", str(SUBMISSIONS)),
    *("--stale-every", "2", "--other-every", "2", "--postgres-url", POSTGRES_URL),
]

RUNS = [
    pytest.param(("sqlite", 1), id="sqlite-1"),
    pytest.param(("sqlite", 2), id="sqlite-2"),
    pytest.param(("postgres", 1), id="postgres-1", marks=pytest.mark.postgres),
    pytest.param(("postgres", 2), id="postgres-2", marks=pytest.mark.postgres),
    pytest.param(("two-processes", 1), id="two-processes-1", marks=pytest.mark.postgres),
    pytest.param(("two-processes", 2), id="two-processes-2", marks=pytest.mark.postgres),
]

_figures: dict[tuple[str, int], dict] = {}


@pytest.fixture
def figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    backend, judgments_per_trace = request.param
    if backend != "sqlite" and not _postgres_available():
        skip_or_fail("REDLINE_REQUIRE_POSTGRES", f"PostgreSQL is not reachable at {POSTGRES_URL}")
    key = (backend, judgments_per_trace)
    if key not in _figures:
        work = tmp_path_factory.mktemp(f"load-{backend}-{judgments_per_trace}")
        _figures[key] = load_test.run_one(backend, judgments_per_trace, load_test.settings(SMALL), work)
    return _figures[key]


@pytest.mark.parametrize("figures", RUNS, indirect=True)
def test_nothing_is_lost_and_nobody_sees_an_error_but_refused_stale_edits(figures):
    r = figures
    stacks = [f"{g['count']} x {g['type']} in {g['step']}: {g['message']}" for g in r["error_stacks"]]
    assert r["errors"] == 0, stacks
    made = ANNOTATORS * SUBMISSIONS
    assert r["submissions_made"] == made
    assert (r["stored"], r["lost"], r["differing"]) == (made, 0, 0)
    # Every second trace was open in a second tab too (half saving a draft there, half submitting
    # after the first tab): every such edit is refused, none overwrites.
    assert r["stale_edits_accepted"] == 0
    assert r["refused_stale_by_kind"].get("StaleJudgment", 0) >= made // 2
    assert r["refused_stale_by_kind"].get("DraftConflict", 0) >= made // 4
    assert r["next_trace_ms"]["p99"] > 0 and r["submit_ms"]["p99"] > 0
    assert r["processes"] == (2 if r["backend"] == "two-processes" else 1)


@pytest.mark.parametrize("figures", RUNS, indirect=True)
def test_no_trace_is_judged_by_more_people_than_the_project_asks(figures):
    # Picks re-check under a lock: on SQLite its write lock (it has no row locks), on PostgreSQL the row's.
    assert (figures["duplicates"], figures["judgments_beyond_need"]) == (0, 0)


@pytest.mark.parametrize("figures", RUNS, indirect=True)
def test_every_fully_judged_trace_is_marked_complete(figures):
    # Two submissions on one trace at once: the later one must count the earlier one's judgment.
    assert (figures["wrong_complete_flags"], figures["complete_but_marked_open"]) == (0, 0)


@pytest.mark.parametrize("figures", RUNS, indirect=True)
def test_other_write_paths_never_add_a_judgment_to_a_completed_trace(figures):
    # By URL, by checking a critique: a person's write on a trace others completed is refused; settling is not.
    refused = figures["refused_stale_by_kind"]
    assert figures["intrusions_accepted"] == 0
    assert refused.get("NotOpen", 0) + refused.get("CheckRefused", 0) + figures["settled"] > 0
