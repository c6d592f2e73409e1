"""Every page opened directly (as if its URL were typed): signed out it refuses and shows no data; annotators
are refused the admin pages, and on a blind project see nobody else's judgments anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from annotation.accounts.users import create_user, set_members
from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from storage import queries
from storage.db import session
from storage.tables import utcnow
from tests.pages.conftest import ROOT, RUN_TIMEOUT_S, open_app, sign_in_as
from tests.utils.projects import make_project

# The pages are those app.py navigates to (the rest of pages/ are helpers they import); sign-in is open to all.
LISTED = set(re.findall(r'st\.Page\("pages/(\w+\.py)"', (ROOT / "app.py").read_text(encoding="utf-8")))
PAGES = sorted(LISTED - {"sign_in.py"})
ADMIN_PAGES = {"admin.py", "critics.py", "export_data.py", "import_data.py"}
# Text that must never reach the wrong eyes.
PROBLEM_MARK = "What is 3 + 3?"
BOB_MARK = "bob-private-critique"


def test_the_page_list_is_complete():
    assert set(PAGES) >= ADMIN_PAGES | {"home.py", "annotate.py", "compare.py", "check_critiques.py"}
    helpers = {p.name for p in (ROOT / "pages").glob("*.py")} - LISTED
    assert helpers, "every file in pages/ is a page?"
    for name in helpers:  # a helper draws nothing when imported: it only defines functions
        assert not re.search(r"^(st\.|\w+\(\))", (ROOT / "pages" / name).read_text(encoding="utf-8"), re.M), name


@pytest.fixture
def blind_project(db: Engine, tmp_path: Path) -> Engine:
    """A blind project with ann and bob on it; bob and a model judged every trace, ann all but the first."""
    make_project(db, tmp_path, traces=4, blind=True, judgments_per_trace=3)
    for name in ("ann", "bob"):
        create_user(db, username=name, password="test-password-1")
    set_members(db, project="p", usernames=["ann", "bob"])
    with session(db) as s, s.begin():
        project = queries.get_project(s, name="p")
        now = utcnow()
        rows = []
        for i, trace in enumerate(queries.traces_in(s, project_id=project.id)):
            steps = [StepLabel(1), StepLabel(-1, critique=f"{BOB_MARK} step"), StepLabel(None)]
            bob = Judgment(Source("human", "bob"), first_error=1, steps=steps, critique=BOB_MARK)
            model = Judgment(Source("model", "critic"), first_error=1, critique="the model's critique")
            ann = Judgment(Source("human", "ann"), first_error=-1, critique="ann's own critique")
            # ann leaves the first trace open, so Annotate has work to show her.
            rows += [judgment_row(j, trace_id=trace.id, now=now) for j in (bob, model, ann)[: 3 if i else 2]]
        queries.insert_judgments(s, rows=rows)
    return db


def rendered(at: AppTest) -> str:
    """Everything the page drew, as text: every element's message, and every table's cells."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(parts)


def open_page(name: str, user: str | None, role: str = "annotator") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=RUN_TIMEOUT_S)
    if user is not None:
        sign_in_as(at, user, role)
    at.run()
    assert not at.exception, (name, [e.value for e in at.exception])
    return at


@pytest.mark.parametrize("page", PAGES)
def test_signed_out_every_page_refuses_and_shows_no_data(blind_project, page):
    at = open_page(page, user=None)
    assert [w.value for w in at.warning] == ["Sign in to see this page."]
    text = rendered(at)
    assert PROBLEM_MARK not in text and BOB_MARK not in text
    assert not at.dataframe and not at.text_input and not at.selectbox and not at.button


@pytest.mark.parametrize("page", sorted(ADMIN_PAGES))
def test_annotators_are_refused_the_admin_pages(blind_project, page):
    at = open_page(page, user="ann")
    assert [e.value for e in at.error] == ["This page is for admins."]
    text = rendered(at)
    assert PROBLEM_MARK not in text and BOB_MARK not in text
    assert not at.dataframe and not at.selectbox and not at.button and not at.get("file_uploader")


@pytest.mark.parametrize("page", sorted(set(PAGES) - ADMIN_PAGES))
def test_on_a_blind_project_an_annotator_never_sees_another_persons_judgment(blind_project, page):
    at = open_app(f"pages/{page}", user="ann", role="annotator")
    assert not at.error, [e.value for e in at.error]
    for box in at.selectbox:
        assert "human:bob" not in box.options and "all humans" not in box.options
    assert BOB_MARK not in rendered(at)
    if page in ("annotate.py", "check_critiques.py"):
        assert "What is " in rendered(at)  # a trace is open: the check above looked at real work
    if page == "compare.py":
        # Open every disagreement (ann against the model) in the browser, with its judgment history.
        picks = at.selectbox(key="compare_trace").options
        assert len(picks) == 3
        for i in range(len(picks)):
            at.selectbox(key="compare_trace").set_value(i).run()
            assert BOB_MARK not in rendered(at)
            assert "human:ann · 1 version" in [c.value.replace("\\", "") for c in at.caption]


def test_admins_open_every_page(blind_project):
    for page in PAGES:
        at = open_app(f"pages/{page}", user="admin", role="admin")
        assert not at.error and not at.warning, (page, [e.value for e in (*at.error, *at.warning)])
