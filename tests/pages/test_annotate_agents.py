"""Annotate on an agent trajectory: each part shown as what it is, the first wrong tool call judged and kept."""

from __future__ import annotations

from html.parser import HTMLParser

from annotation.importing.files import import_file
from storage.db import session
from storage.work import human_judgment
from tests.pages.conftest import open_app
from tests.utils.chat_records import openai_record, png
from tests.utils.files import write_jsonl
from tests.utils.surface import Surface


class Images(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_agent_steps_show_calls_results_and_the_stored_image_and_take_a_judgment(database_url, db, tmp_path):
    import_file(db, write_jsonl(tmp_path / "agent.jsonl", [openai_record(png())]), project="Agents")
    at = open_app("pages/annotate.py")
    at.selectbox(key="annotate_project").set_value("Agents").run()
    surface = Surface(at)
    trace = surface.data()["trace"]

    assert "System prompt" in trace["context"]
    [image] = Images(trace["problem"]).sources
    assert image.startswith("data:image/png;base64,")
    first = trace["steps"][0]
    assert "<code>get_order</code>" in first and "<code>get_shipping</code>" in first
    assert "arguments are not valid JSON" in first and "result of <code>get_order</code>" in first
    assert 'class="rl-role rl-role-assistant"' in first and "rl-thinking" in first
    assert len(trace["steps"]) == 4

    work = surface.judge([-1])
    work["steps"][0]["critique"] = "get_shipping is called with arguments cut short"
    surface.send("submit", work)
    assert not at.exception
    with session(db) as s:
        stored = human_judgment(s, trace_id=trace["id"], username="admin")
    assert stored.first_error == 0 and stored.steps[0]["critique"].startswith("get_shipping")
