"""The Admin page through AppTest: accounts, project settings, members and quality control."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from annotation.accounts.users import account_for, list_users, members_of, sign_in
from annotation.core.model import InvalidValue
from annotation.projects.demo import DEMO_PROJECT
from annotation.projects.settings import load_settings, parse_positions
from tests.pages.conftest import ROOT, open_app, sign_in_as


def test_an_annotator_is_refused(database_url):
    at = open_app(user="ann", role="annotator")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/admin.py")  # not in the annotator's navigation at all
    direct = sign_in_as(AppTest.from_file(ROOT / "pages" / "admin.py", default_timeout=30), "ann", "annotator").run()
    assert [e.value for e in direct.error] == ["This page is for admins."]  # and the page checks again
    assert not direct.get("form")


def test_admin_adds_an_account_that_can_sign_in(database_url, db):
    at = open_app("pages/admin.py")
    at.text_input(key="admin_new_username").input("carol")
    at.selectbox(key="admin_new_role").select("annotator")
    at.text_input(key="admin_new_password").input("carol-password")
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert at.success[0].value == "Added carol (annotator)."
    assert sign_in(db, username="carol", password="carol-password").role == "annotator"
    assert "carol" in set(at.dataframe[0].value["username"])


def test_a_short_password_is_refused_with_its_field(database_url, db):
    at = open_app("pages/admin.py")
    at.text_input(key="admin_new_username").input("dan")
    at.text_input(key="admin_new_password").input("short")
    at.get("form_submit_button")[0].click()
    at.run()
    assert "password" in at.error[0].value
    assert account_for(db, "dan") is None


def test_project_settings_are_saved(database_url, db):
    at = open_app("pages/admin.py")
    p = DEMO_PROJECT
    at.text_area(key=f"admin_guidelines_{p}").input("# Be strict\nMark the **first** wrong step.")
    at.radio(key=f"admin_label_mode_{p}").set_value("every_step")
    at.number_input(key=f"admin_judgments_per_trace_{p}").set_value(2)
    at.toggle(key=f"admin_blind_{p}").set_value(True)
    at.selectbox(key=f"admin_queue_order_{p}").set_value("random")
    at.text_input(key=f"admin_licence_{p}").input("CC-BY-4.0")
    at.button(key=f"FormSubmitter:admin_settings_{p}-Save settings").click()
    at.run()
    assert not at.exception and not at.error
    saved = load_settings(db, p)
    assert saved.guidelines.startswith("# Be strict")
    assert (saved.label_mode, saved.judgments_per_trace, saved.blind, saved.queue_order, saved.licence) == (
        "every_step",
        2,
        True,
        "random",
        "CC-BY-4.0",
    )


def test_a_taxonomy_preset_is_added_to_the_error_types(database_url, db):
    at = open_app("pages/admin.py")
    p = DEMO_PROJECT
    at.selectbox(key=f"admin_preset_{p}").select("PRMBench").run()
    at.button(key=f"FormSubmitter:admin_settings_{p}-Save settings").click().run()
    assert "circular" in load_settings(db, p).taxonomy


def test_members_and_quality_control(database_url, db):
    at = open_app("pages/admin.py")
    open_app("pages/home.py", user="ann", role="annotator")  # makes the account
    at = open_app("pages/admin.py")
    at.multiselect(key=f"admin_members_{DEMO_PROJECT}").select("ann")
    at.button(key=f"FormSubmitter:admin_members_{DEMO_PROJECT}-Save members").click().run()
    assert members_of(db, DEMO_PROJECT) == ["ann"]
    assert {u.username: u.projects for u in list_users(db)}["ann"] == (DEMO_PROJECT,)

    at.text_input(key="admin_qc_positions").input("1-3, 5")
    at.button(key="admin_qc_apply").click().run()
    assert at.success[0].value == "4 traces changed."
    assert "4 quality-control traces" in at.caption[-1].value or any(
        "4 quality-control traces" in c.value for c in at.caption
    )


def test_positions_are_read_as_people_count_them():
    assert parse_positions("1-3, 7") == [0, 1, 2, 6]
    with pytest.raises(InvalidValue):
        parse_positions("0")
    with pytest.raises(InvalidValue):
        parse_positions("two")


def test_changing_one_account_leaves_the_fields_it_did_not_touch(database_url, db):
    from annotation.accounts.users import create_user

    create_user(db, username="bob", password="bob-password-1", role="annotator")
    at = open_app("pages/admin.py")
    at.selectbox(key="admin_change_username").select("bob").run()
    assert at.selectbox(key="admin_change_role_bob").value == "annotator"
    at.text_input(key="admin_change_password_bob").input("bob-password-2")
    at.button(key="FormSubmitter:admin_change_user_bob-Save account").click().run()
    assert at.success[0].value == "Saved bob."
    assert {u.username: u.role for u in list_users(db)}["bob"] == "annotator"
    assert sign_in(db, username="bob", password="bob-password-2")
