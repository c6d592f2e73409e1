"""The Critics page (admins): save a critic, preview its prompt on a real trace, run it through the stub."""

from __future__ import annotations

import os
import time

import pytest
from sqlmodel import select

from annotation.critics.config import get_critic
from annotation.critics.keys import ALLOWED_NAMES_ENV
from storage.db import session
from storage.tables import CriticRun, JudgmentRow
from tests.pages.conftest import open_app
from tests.utils.critic_data import make_project, register_stub_price
from tests.utils.openai_stub import STUB_KEY, STUB_MODEL, OpenAIStub

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
PAGE = "pages/critics.py"


@pytest.fixture(autouse=True)
def stub_key_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator lists STUB_API_KEY among the key names critics may use."""
    monkeypatch.setenv(ALLOWED_NAMES_ENV, "STUB_API_KEY")


def fill_critic(at, name: str, api_base: str, template: str = "processbench") -> None:
    at.text_input(key="critics_name").set_value(name)
    at.text_input(key="critics_model").set_value(STUB_MODEL)
    at.text_input(key="critics_api_base").set_value(api_base)
    at.text_input(key="critics_key_env").set_value("STUB_API_KEY")
    at.selectbox(key="critics_template").set_value(template).run()


def wait_for_run(db, timeout_s: float = 30.0) -> CriticRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session(db) as s:
            run = s.exec(select(CriticRun)).first()
        if run is not None and run.status != "running":
            return run
        time.sleep(0.1)
    raise AssertionError("the run did not finish")


def test_annotators_cannot_open_it(database_url):
    at = open_app(user="ann", role="annotator")

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


def test_save_a_critic_and_preview_its_prompt(database_url, db):
    make_project(db, "critics-page", 3)
    at = open_app(PAGE)

    fill_critic(at, "stubby", "http://127.0.0.1:9/v1")
    at.button(key="critics_save").click().run()

    assert "Saved critic stubby." in [s.value for s in at.success]
    saved = get_critic(db, "stubby")
    assert saved.model == STUB_MODEL and saved.api_key_env == "STUB_API_KEY" and saved.template == "processbench"
    at.selectbox(key="critics_preview_project").set_value("critics-page").run()
    at.number_input(key="critics_preview_trace").set_value(2).run()
    shown = at.code[0].value
    assert "<paragraph_0>\n1 + 1 = 2.\n</paragraph_0>" in shown and "What is 1 + 1, then doubled?" in shown


@pytest.mark.parametrize("name", ["DATABASE_URL", "auth", "HOME"])
def test_a_key_name_the_operator_did_not_allow_is_not_saved(database_url, db, name):
    """Finding 2: naming DATABASE_URL, a secrets section or any variable sent its value to the typed api_base."""
    at = open_app(PAGE)
    fill_critic(at, "leaky", "http://127.0.0.1:9/v1")
    at.text_input(key="critics_key_env").set_value(name).run()
    at.button(key="critics_save").click().run()

    assert "Not saved: api_key_env" in at.error[0].value and name in at.error[0].value.replace("\\_", "_")
    assert get_critic(db, "leaky") is None


def test_a_custom_template_with_an_unknown_placeholder_is_not_saved(database_url, db):
    at = open_app(PAGE)
    fill_critic(at, "mine", "http://127.0.0.1:9/v1", template="custom")
    assert "[Math Problem]" in at.text_area(key="critics_prompt").value  # starts from the built-in one
    at.text_area(key="critics_prompt").set_value("Judge $problem and $stepz").run()
    at.button(key="critics_save").click().run()

    assert "Not saved: prompt: unknown placeholder \\$stepz" in at.error[0].value
    assert get_critic(db, "mine") is None


def test_run_a_critic_over_a_project_and_see_it_in_the_history(database_url, db, monkeypatch):
    monkeypatch.setenv("STUB_API_KEY", STUB_KEY)
    register_stub_price()
    make_project(db, "critics-run", 4)
    with OpenAIStub("Paragraph 1 is wrong. \\boxed{1}") as stub:
        at = open_app(PAGE)
        fill_critic(at, "stubby", stub.api_base)
        at.button(key="critics_save").click().run()
        at.selectbox(key="critics_run_project").set_value("critics-run").run()
        assert any("are all qwen models" in w.value for w in at.warning) is False  # stub-model has no family
        at.number_input(key="critics_run_concurrency").set_value(2).run()
        at.button(key="critics_run_start").click().run()
        run = wait_for_run(db)
        at.run()

    assert not at.exception
    assert (run.status, run.total, run.done, run.failed) == ("done", 4, 4, 0) and run.cost > 0
    with session(db) as s:
        judged = list(s.exec(select(JudgmentRow).where(JudgmentRow.source_name == "stubby")))
    assert [j.first_error for j in judged] == [1, 1, 1, 1]
    history = at.dataframe[0].value
    assert list(history["critic"]) == ["stubby"] and list(history["status"]) == ["done"]
    assert history["cost ($)"][0] > 0
    assert any("Run 1 done: 4 critiqued" in s.value for s in at.success)


def test_family_warning_before_a_run(database_url, db):
    make_project(db, "qwen-traces", 2, generator="Qwen2.5-Math-7B-Instruct")
    at = open_app(PAGE)
    at.text_input(key="critics_name").set_value("qwen-judge")
    at.text_input(key="critics_model").set_value("ollama/qwen2.5:72b")
    at.button(key="critics_save").click().run()
    at.selectbox(key="critics_run_project").set_value("qwen-traces").run()

    assert any("are all qwen models" in w.value for w in at.warning)


def test_cancel_a_run_from_the_page(database_url, db, monkeypatch):
    monkeypatch.setenv("STUB_API_KEY", STUB_KEY)
    make_project(db, "critics-cancel", 6)
    with OpenAIStub("\\boxed{-1}", delay_s=0.5) as stub:
        at = open_app(PAGE)
        fill_critic(at, "slow", stub.api_base)
        at.button(key="critics_save").click().run()
        at.selectbox(key="critics_run_project").set_value("critics-cancel").run()
        at.number_input(key="critics_run_concurrency").set_value(1).run()
        at.button(key="critics_run_start").click().run()
        assert "Run 1: 0 of 6 traces" in at.get("progress")[0].proto.text
        at.button(key="critics_run_cancel").click().run()
        run = wait_for_run(db)
        at.run()

    assert run.status == "cancelled" and run.done < 6
    assert any("Run 1 cancelled" in w.value for w in at.warning)
