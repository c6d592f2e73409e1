"""The Annotate page through AppTest: serve, judge by key, drafts across sessions, stale submissions, blind mode."""

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


def trace_id_of(at) -> int:
    return int(at.query_params["trace"][0] if isinstance(at.query_params["trace"], list) else at.query_params["trace"])


def verdict(at, trace_id: int, i: int):
    return at.button_group(key=f"annotate_verdict_{trace_id}_{i}")


def test_an_annotator_on_the_project_is_served_the_first_trace_and_can_submit_it(database_url, db):
    at = open_app("pages/annotate.py", user="ann", role="annotator")
    assert "not on any project" in at.info[0].value
    assert not at.get("button_group")
    set_members(db, project=DEMO_PROJECT, usernames=["ann"])

    at = open_app("pages/annotate.py", user="ann", role="annotator")
    assert at.title[0].value == "Trace #1"
    tid = trace_id_of(at)
    verdict(at, tid, 1).set_value("✗ Wrong").run()
    assert not at.exception
    # First-error mode: the step before is marked correct, the ones after need nothing.
    assert verdict(at, tid, 0).value == "✓ Correct"
    assert any("First error: Step 2." in e.value for e in at.error)
    at.text_area(key=f"annotate_critique_{tid}_1").input("3 x 2 is 6, not 8").run()
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="ann").content["steps"][1]["critique"] == "3 x 2 is 6, not 8"

    at.button(key="annotate_submit").click().run()
    assert not at.exception
    assert at.title[0].value == "Trace #2"
    with session(db) as s:
        stored = human_judgment(s, trace_id=tid, username="ann")
        assert get_draft(s, trace_id=tid, username="ann") is None
    assert (stored.first_error, stored.finish_reason, stored.status) == (1, "found_error", "submitted")
    assert stored.steps[1]["critique"] == "3 x 2 is 6, not 8"
    assert stored.time_spent_s is not None and stored.time_spent_s >= 0


def test_keyboard_buttons_move_the_cursor_and_set_verdicts_and_submitting_early_is_refused(database_url, db):
    at = open_app("pages/annotate.py")
    tid = trace_id_of(at)
    at.button(key="annotate_submit").click().run()
    assert "Still needed: a verdict on step 1" in at.warning[0].value
    assert at.title[0].value == "Trace #1"
    at.button(key="annotate_mark_correct").click().run()  # step 1 correct, cursor moves on
    at.button(key="annotate_mark_wrong").click().run()  # step 2 wrong
    assert verdict(at, tid, 0).value == "✓ Correct" and verdict(at, tid, 1).value == "✗ Wrong"
    assert verdict(at, tid, 2).disabled
    at.button(key="annotate_all_correct").click().run()
    assert [verdict(at, tid, i).value for i in range(2)] == ["✓ Correct", "✓ Correct"]
    assert any("Every step is correct" in i.value for i in at.info)


def test_a_new_session_on_the_same_url_finds_the_draft(database_url, db):
    first = open_app("pages/annotate.py")
    tid = trace_id_of(first)
    first.button(key="annotate_mark_wrong").click().run()
    first.text_area(key=f"annotate_critique_{tid}_0").input("starts wrong").run()

    again = open_app("pages/annotate.py")  # a reload: a new session, no state
    assert trace_id_of(again) == tid
    assert verdict(again, tid, 0).value == "✗ Wrong"
    assert again.text_area(key=f"annotate_critique_{tid}_0").value == "starts wrong"
    assert "draft" in again.caption[0].value


def test_a_submission_from_a_second_tab_is_refused_and_the_work_kept(database_url, db):
    tab_a = open_app("pages/annotate.py")
    tab_b = open_app("pages/annotate.py")
    tid = trace_id_of(tab_a)
    assert trace_id_of(tab_b) == tid
    tab_a.button(key="annotate_all_correct").click().run()
    tab_a.button(key="annotate_submit").click().run()
    tab_b.button(key="annotate_mark_wrong").click().run()
    tab_b.button(key="annotate_submit").click().run()
    assert any("Not submitted" in e.value and "another tab" in e.value for e in tab_b.error)
    with session(db) as s:
        assert human_judgment(s, trace_id=tid, username="admin").first_error == -1
        assert get_draft(s, trace_id=tid, username="admin").content["steps"][0]["verdict"] == -1  # work kept

    # The person chooses: keep theirs; the submission revises the judgment and keeps the other.
    tab_b.button(key="annotate_take_over").click().run()
    tab_b.button(key="annotate_submit").click().run()
    assert not any("Not submitted" in e.value for e in tab_b.error)
    with session(db) as s:
        judgment = human_judgment(s, trace_id=tid, username="admin")
        assert (judgment.first_error, judgment.version) == (0, 2)
        assert [r.content["first_error"] for r in revisions_of(s, judgment_id=judgment.id)] == [-1]


def test_a_draft_saved_by_another_tab_is_not_overwritten_unasked(database_url, db):
    tab_a = open_app("pages/annotate.py")
    tab_b = open_app("pages/annotate.py")
    tid = trace_id_of(tab_a)
    tab_a.button(key="annotate_mark_wrong").click().run()
    tab_b.button(key="annotate_all_correct").click().run()
    assert any("another tab" in e.value for e in tab_b.error)
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="admin").content["steps"][0]["verdict"] == -1
    tab_b.button(key="annotate_load_newer").click().run()
    assert verdict(tab_b, tid, 0).value == "✗ Wrong"
    assert not any("another tab" in e.value for e in tab_b.error)


def test_skip_and_back_and_the_reference_toggle(database_url, db):
    at = open_app("pages/annotate.py")
    first = trace_id_of(at)
    at.button(key="annotate_skip").click().run()
    assert trace_id_of(at) != first and at.title[0].value == "Trace #2"
    at.button(key="annotate_back").click().run()
    assert trace_id_of(at) == first
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
    admin = open_app("pages/annotate.py")
    admin.toggle(key="annotate_show_others").set_value(True).run()
    assert "reference" in set(admin.dataframe[0].value["source"])


def _down(*_args, **_kwargs):
    raise OperationalError("INSERT INTO draft ...", {}, ConnectionRefusedError("the server is restarting"))


def test_a_database_outage_keeps_the_work_on_the_page_and_saves_it_once_back(database_url, db, monkeypatch):
    import pages.annotate_state

    at = open_app("pages/annotate.py")
    tid = trace_id_of(at)
    real_save = pages.annotate_state.save_draft
    monkeypatch.setattr(pages.annotate_state, "save_draft", _down)
    at.button(key="annotate_mark_wrong").click().run()
    assert not at.exception
    assert any("cannot be reached" in w.value for w in at.warning)
    assert verdict(at, tid, 0).value == "✗ Wrong"  # still on the page
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="admin") is None

    monkeypatch.setattr(pages.annotate_state, "save_draft", real_save)
    at.button(key="annotate_save_now").click().run()
    with session(db) as s:
        assert get_draft(s, trace_id=tid, username="admin").content["steps"][0]["verdict"] == -1
    assert not at.get("button") or "annotate_save_now" not in [b.key for b in at.button]


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
    first = trace_id_of(at)
    at.button(key="annotate_all_correct").click().run()
    at.button(key="annotate_submit").click().run()
    at.button(key="annotate_back").click().run()
    assert trace_id_of(at) == first
    at.button(key="annotate_mark_wrong").click().run()  # step 1 wrong this time
    at.button(key="annotate_submit").click().run()
    at.button(key="annotate_back").click().run()
    at.toggle(key="annotate_show_revisions").set_value(True).run()
    captions = [c.value for c in at.caption if "version" in c.value]
    assert captions == ["human:admin · 2 versions", "reference · 1 version"]
    mine = at.dataframe[0].value
    assert list(mine["version"]) == [1, 2]
    assert list(mine["made by"]) == ["human:admin", "admin"]


def test_a_very_long_trace_shows_a_window_of_steps_that_follows_the_current_one(database_url, db, tmp_path):
    from annotation.importing.files import import_file
    from tests.utils.files import write_jsonl

    steps = [f"Step text {i}." for i in range(2000)]
    import_file(
        db, write_jsonl(tmp_path / "long.jsonl", [{"problem": "Long?", "steps": steps, "label": 1500}]), project="Long"
    )
    create_user(db, username="ann", password="password-1", role="annotator")
    set_members(db, project="Long", usernames=["ann"])
    at = open_app("pages/annotate.py", user="ann", role="annotator")
    tid = trace_id_of(at)
    shown = [w.key for w in at.get("button_group") if w.key.startswith(f"annotate_verdict_{tid}_")]
    assert shown == [f"annotate_verdict_{tid}_{i}" for i in range(60)]
    at.number_input(key=f"annotate_goto_{tid}").set_value(1501).run()
    shown = {
        int(w.key.rsplit("_", 1)[1]) for w in at.get("button_group") if w.key.startswith(f"annotate_verdict_{tid}_")
    }
    assert 1500 in shown and len(shown) == 60
