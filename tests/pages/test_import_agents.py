"""The Import page on agent logs: the grouping into steps is shown and chosen, images are copied in."""

from __future__ import annotations

from annotation.core.parts import steps_of
from annotation.projects.overview import project_overview
from annotation.projects.traces import load_traces
from tests.pages.conftest import open_app
from tests.pages.test_import_data import choose_new_project, texts
from tests.utils.chat_records import openai_record, png
from tests.utils.files import write_jsonl

PAGE = "pages/import_data.py"


def test_an_agent_log_is_detected_and_its_steps_grouped_as_chosen(database_url, db, tmp_path):
    path = write_jsonl(tmp_path / "agent.jsonl", [openai_record(png()), openai_record()])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()

    assert "Detected format: OpenAI chat messages (openai-messages)" in [s.value for s in at.success]
    steps_per = at.radio(key="import_steps_per")
    assert steps_per.value == "turn" and steps_per.options == [
        "one assistant turn with the tool results it received (agents)",
        "one message per step",
    ]
    assert "[user]\nIt was not!" in texts(at)

    steps_per.set_value("message").run()
    choose_new_project(at, "Agents")
    at.button(key="import_run").click().run()

    assert not at.exception
    shown = texts(at)
    assert "Traces: 2 added, 0 already present" in shown and "Images stored: 1" in shown
    assert project_overview(db, "Agents").steps == 2 * len(openai_record()["messages"])


def test_turns_are_the_default(database_url, db, tmp_path):
    path = write_jsonl(tmp_path / "agent.jsonl", [openai_record()])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()
    choose_new_project(at, "Turns")
    at.button(key="import_run").click().run()

    [stored] = load_traces(db, "Turns")
    assert [s.role for s in steps_of(stored.trace)] == ["assistant", "assistant", "user", "assistant"]


def test_bad_records_can_be_left_out_and_records_filtered(database_url, db, tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = [openai_record() | {"id": f"run-{i}", "domain": "air" if i else "sea"} for i in range(3)]
    bad = openai_record() | {"id": "broken", "domain": "air"}
    del bad["messages"][3]["role"]
    write_jsonl(path, [*good, bad])
    at = open_app(PAGE)
    at.text_input(key="import_path").set_value(str(path)).run()
    assert any("record 4" in e.value and "role" in e.value for e in at.error)

    at.checkbox(key="import_skip_invalid").check().run()
    at.text_input(key="import_where").set_value("domain=air").run()
    assert any(w.value.startswith("Left out: mixed.jsonl, record 4") for w in at.warning)
    choose_new_project(at, "Filtered")
    at.button(key="import_run").click().run()
    shown = texts(at)
    assert "Traces: 2 added, 0 already present" in shown
    assert "Records not matching --where, left out: 1" in shown and "Bad records left out: 1" in shown
