"""The Annotate page through AppTest: serve, judge through the surface's messages, drafts across sessions, stale
submissions, refused messages, blind mode. The browser's side is played by tests.utils.surface."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest

from annotation.accounts.users import create_user, set_members
from annotation.projects.demo import DEMO_PROJECT, load_demo_if_empty
from annotation.projects.settings import load_settings, save_settings
from storage.db import session
from storage.queries import revisions_of
from storage.work import get_draft, human_judgment
from tests.pages.conftest import APP, open_app, sign_in_as
from tests.utils.surface import Surface, notice


def trace_id_of(at) -> int:
    return int(at.query_params["trace"][0] if isinstance(at.query_params["trace"], list) else at.query_params["trace"])


def test_an_annotator_on_the_project_is_served_the_first_trace_and_can_submit_it(database_url, db):
    at = open_app("pages/annotate.py", user="ann", role="annotator")
    assert "not on any project" in at.info[0].value
    assert not at.get("bidi_component")
    set_members(db, project=DEMO_PROJECT, usernames=["ann"])

    at = open_app("pages/annotate.py", user="ann", role="annotator")
    surface = Surface(at)
    data = surface.data()
    assert data["trace"]["number"] == 1 and data["user"] == "ann"
    assert at.query_params["project"] == [DEMO_PROJECT] or at.query_params["project"] == DEMO_PROJECT
    tid = surface.trace_id
    work = surface.judge([1, -1])
    work["steps"][1]["critique"] = "3 x 2 is 6, not 8"
    surface.send("draft", work)
    assert not at.exception
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="ann").content["steps"][1]["critique"] == "3 x 2 is 6, not 8"
    assert surface.data()["ack"] == 1

    surface.send("submit", work)
    assert not at.exception
    assert surface.data()["trace"]["number"] == 2
    assert notice(at) == "Submitted trace #1."
    with session(db) as s:
        stored = human_judgment(s, trace_id=tid, username="ann")
        assert get_draft(s, trace_id=tid, username="ann") is None
    assert (stored.first_error, stored.finish_reason, stored.status) == (1, "found_error", "submitted")
    assert stored.steps[1]["critique"] == "3 x 2 is 6, not 8"
    assert stored.time_spent_s is not None and stored.time_spent_s >= 0


def test_submitting_early_is_refused_and_first_error_mode_clears_what_follows_the_first_error(database_url, db):
    at = open_app("pages/annotate.py")
    surface = Surface(at)
    tid = surface.trace_id
    surface.send("submit", surface.judge([None]))
    assert "Still needed: a verdict on step 1" in notice(at)
    assert surface.data()["trace"]["id"] == tid

    # Steps after the first error were rated before it moved: they are not stored, nor a correct step's tags.
    work = surface.judge([1, -1, -1, 1])
    work["steps"][0]["tags"] = ["arithmetic"]
    work["steps"][2]["critique"] = "also wrong"
    surface.send("submit", work)
    with session(db) as s:
        stored = human_judgment(s, trace_id=tid, username="admin")
    assert stored.first_error == 1
    assert [st["verdict"] for st in stored.steps] == [1, -1, None, None]
    assert stored.steps[0]["tags"] == [] and stored.steps[2]["critique"] is None


def test_a_new_session_on_the_same_url_finds_the_draft(database_url, db):
    first = open_app("pages/annotate.py")
    surface = Surface(first)
    tid = surface.trace_id
    work = surface.judge([-1])
    work["steps"][0]["critique"] = "starts wrong"
    surface.send("draft", work)

    again = open_app("pages/annotate.py")  # a reload: a new session, no state
    data = Surface(again).data()
    assert data["trace"]["id"] == tid
    assert data["work"]["steps"][0] == {
        "verdict": -1,
        "critique": "starts wrong",
        "tags": [],
        "correction": "",
        "because_of": None,
    }
    assert "draft" in data["caption"]


def test_the_url_names_the_project_and_the_trace_and_a_reload_returns_to_them(database_url, db, tmp_path):
    from annotation.importing.files import import_file
    from tests.utils.files import write_jsonl

    records = [{"problem": f"Q{i}?", "steps": ["a", "b"], "label": 1} for i in range(3)]
    at = open_app("pages/annotate.py")
    import_file(db, write_jsonl(tmp_path / "second.jsonl", records), project="Second")
    at.run()
    at.selectbox(key="annotate_project").set_value("Second").run()
    surface = Surface(at)
    assert "Second" in surface.data()["caption"]
    surface.send("skip")
    wanted = surface.trace_id
    assert at.query_params["project"] in ("Second", ["Second"])

    reload = sign_in_as(AppTest.from_file(APP, default_timeout=30)).run()
    reload.query_params["project"] = "Second"
    reload.query_params["trace"] = str(wanted)
    reload.switch_page("pages/annotate.py").run()
    data = Surface(reload).data()
    assert data["trace"]["id"] == wanted and "Second" in data["caption"]
    assert reload.selectbox(key="annotate_project").value == "Second"


def test_messages_the_trace_cannot_take_are_refused_and_change_nothing(database_url, db):
    at = open_app("pages/annotate.py")
    surface = Surface(at)
    tid = surface.trace_id
    n = len(surface.work()["steps"])
    refused = {
        "another trace": {"trace_id": tid + 1},
        "a forged reviewer": {"user": "someone-else"},
    }
    for what, fields in refused.items():
        surface.send("draft", surface.judge([-1]), **fields)
        assert not at.exception, what
    bad_work = {
        "a verdict out of range": surface.judge([7]),
        "a step past the end": surface.work() | {"steps": [*surface.work()["steps"], {"verdict": 1}]},
        "a tag outside the taxonomy": surface.judge([-1]) | {},
    }
    bad_work["a tag outside the taxonomy"]["steps"][0]["tags"] = ["<script>"]
    for what, work in bad_work.items():
        surface.send("submit", work)
        assert not at.exception, what
        assert notice(at).startswith("Not saved"), what
    assert len(surface.work()["steps"]) == n
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="admin") is None, "a refused message wrote a draft"
        assert human_judgment(s, trace_id=tid, username="admin") is None, "a refused message was submitted"
        assert get_draft(s, trace_id=tid + 1, username="admin") is None
    assert surface.data()["trace"]["id"] == tid


def test_a_submission_from_a_second_tab_is_refused_and_the_work_kept(database_url, db):
    tab_a = Surface(open_app("pages/annotate.py"))
    tab_b = Surface(open_app("pages/annotate.py"))
    tid = tab_a.trace_id
    assert tab_b.trace_id == tid
    tab_a.send("submit", tab_a.judge([1, 1, 1, 1]))
    tab_b.send("submit", tab_b.judge([-1]))
    conflict = tab_b.data()["conflict"]
    assert conflict and "Not submitted" in conflict["text"] and "another tab" in conflict["text"]
    with session(db) as s:
        assert human_judgment(s, trace_id=tid, username="admin").first_error == -1
        assert get_draft(s, trace_id=tid, username="admin").content["steps"][0]["verdict"] == -1  # work kept

    # The person chooses: keep theirs; the submission revises the judgment and keeps the other.
    tab_b.send("take_over", tab_b.judge([-1]))
    assert tab_b.data()["conflict"] is None
    tab_b.send("submit", tab_b.judge([-1]))
    with session(db) as s:
        judgment = human_judgment(s, trace_id=tid, username="admin")
        assert (judgment.first_error, judgment.version) == (0, 2)
        assert [r.content["first_error"] for r in revisions_of(s, judgment_id=judgment.id)] == [-1]


def test_a_draft_saved_by_another_tab_is_not_overwritten_unasked(database_url, db):
    tab_a = Surface(open_app("pages/annotate.py"))
    tab_b = Surface(open_app("pages/annotate.py"))
    tid = tab_a.trace_id
    tab_a.send("draft", tab_a.judge([-1]))
    tab_b.send("draft", tab_b.judge([1, 1, 1, 1]))
    assert "another tab" in tab_b.data()["conflict"]["text"]
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="admin").content["steps"][0]["verdict"] == -1
    reset = tab_b.data()["reset"]
    tab_b.send("load_newer")
    data = tab_b.data()
    assert data["work"]["steps"][0]["verdict"] == -1 and data["conflict"] is None
    assert data["reset"] == reset + 1  # the browser replaces its copy with this one


def test_skip_and_back_and_the_reference_toggle(database_url, db):
    at = open_app("pages/annotate.py")
    surface = Surface(at)
    first = surface.trace_id
    surface.send("skip")
    assert surface.trace_id != first and surface.data()["trace"]["number"] == 2
    assert "Skipped trace #1" in notice(at)
    surface.send("back")
    assert surface.trace_id == first == trace_id_of(at)
    assert at.toggle(key="annotate_show_reference") is not None


def test_blind_mode_hides_the_reference_and_others_from_annotators(database_url, db):
    load_demo_if_empty(db)
    settings = load_settings(db, DEMO_PROJECT)
    save_settings(db, DEMO_PROJECT, replace(settings, blind=True))
    create_user(db, username="ann", password="password-1", role="annotator")
    set_members(db, project=DEMO_PROJECT, usernames=["ann"])
    at = open_app("pages/annotate.py", user="ann", role="annotator")
    shown = {t.key for t in at.toggle}
    assert "annotate_show_reference" not in shown and "annotate_show_others" not in shown
    data = Surface(at).data()
    assert not data["trace"]["reference_answer"] and not data["trace"]["reference_solution"]
    admin = open_app("pages/annotate.py")
    admin.toggle(key="annotate_show_others").set_value(True).run()
    assert "reference" in set(admin.dataframe[0].value["source"])


def test_trace_text_reaches_the_surface_as_sanitised_markup(database_url, db, tmp_path):
    from annotation.importing.files import import_file
    from tests.utils.files import write_jsonl

    record = {
        "problem": "Solve \\( x^2 = 4 \\). <img src=x onerror=alert(1)>",
        "steps": ["![p](http://tracker.example/p.png) so \\[ x = 2 \\]", "<script>alert(1)</script>"],
        "label": 1,
    }
    at = open_app("pages/annotate.py")
    import_file(db, write_jsonl(tmp_path / "hostile.jsonl", [record]), project="Hostile")
    at.run()
    at.selectbox(key="annotate_project").set_value("Hostile").run()
    trace = Surface(at).data()["trace"]
    assert "<math" in trace["problem"] and "<img" not in trace["problem"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in trace["problem"]
    assert "<img" not in trace["steps"][0] and "http://tracker.example/p.png" in trace["steps"][0]
    assert "<script" not in trace["steps"][1] and "&lt;script&gt;" in trace["steps"][1]


def _down(*_args, **_kwargs):
    raise OperationalError("INSERT INTO draft ...", {}, ConnectionRefusedError("the server is restarting"))


def test_a_database_outage_keeps_the_work_and_saves_it_once_back(database_url, db, monkeypatch):
    import pages.annotate_state

    at = open_app("pages/annotate.py")
    surface = Surface(at)
    tid = surface.trace_id
    real_save = pages.annotate_state.save_draft
    monkeypatch.setattr(pages.annotate_state, "save_draft", _down)
    surface.send("draft", surface.judge([-1]))
    assert not at.exception
    assert "cannot be reached" in notice(at)
    assert surface.data()["work"]["steps"][0]["verdict"] == -1  # still held for the page
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="admin") is None

    monkeypatch.setattr(pages.annotate_state, "save_draft", real_save)
    work = surface.judge([-1])
    work["steps"][0]["critique"] = "wrong from the start"
    surface.send("draft", work)
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="admin").content["steps"][0]["verdict"] == -1


def test_an_unreachable_database_gives_a_message_not_a_traceback(database_url, db, monkeypatch):
    import pages.auth

    open_app("pages/annotate.py")  # makes the account and the demo project
    monkeypatch.setattr(pages.auth, "account_for_token", _down)
    at = sign_in_as(AppTest.from_file(APP, default_timeout=30)).run()  # the entry point, as the server runs it
    assert not at.exception
    assert "cannot be reached" in at.error[0].value
    assert at.button(key="database_retry")


def test_the_history_of_a_trace_shows_each_version_of_my_judgment(database_url, db):
    at = open_app("pages/annotate.py")
    surface = Surface(at)
    first = surface.trace_id
    surface.send("submit", surface.judge([1, 1, 1, 1]))
    surface.send("back")
    assert surface.trace_id == first
    surface.send("submit", surface.judge([-1]))  # step 1 wrong this time
    surface.send("back")
    at.toggle(key="annotate_show_revisions").set_value(True).run()
    captions = [c.value for c in at.caption if "version" in c.value]
    assert captions == ["human:admin · 2 versions", "reference · 1 version"]
    mine = at.dataframe[0].value
    assert list(mine["version"]) == [1, 2]
    assert list(mine["made by"]) == ["human:admin", "admin"]


def test_a_very_long_trace_reaches_the_surface_whole(database_url, db, tmp_path):
    from annotation.importing.files import import_file
    from tests.utils.files import write_jsonl

    steps = [f"Step text {i}." for i in range(2000)]
    import_file(
        db, write_jsonl(tmp_path / "long.jsonl", [{"problem": "Long?", "steps": steps, "label": 1500}]), project="Long"
    )
    create_user(db, username="ann", password="password-1", role="annotator")
    set_members(db, project="Long", usernames=["ann"])
    at = open_app("pages/annotate.py", user="ann", role="annotator")
    surface = Surface(at)
    assert len(surface.data()["trace"]["steps"]) == 2000
    tid = surface.trace_id
    surface.send("submit", surface.judge([1] * 1500 + [-1]))
    with session(db) as s:
        assert human_judgment(s, trace_id=tid, username="ann").first_error == 1500


def test_the_progress_counts_traces_and_says_so(database_url, db, tmp_path):
    """Issue 17: "Mine: 1 of 3" on a 2-trace project (project counts cached, mine fresh)."""
    from annotation.importing.files import import_file
    from tests.utils.files import write_jsonl

    at = open_app("pages/annotate.py")
    records = [{"problem": f"Q{i}?", "steps": ["a", "b"], "label": 1} for i in range(2)]
    import_file(db, write_jsonl(tmp_path / "two.jsonl", records), project="Two")
    at.run()
    at.selectbox(key="annotate_project").set_value("Two").run()
    surface = Surface(at)
    assert surface.data()["progress"] == "judged by me: 0 of 2 traces"
    surface.send("submit", surface.judge([1, 1]))
    assert surface.data()["progress"] == "judged by me: 1 of 2 traces"
