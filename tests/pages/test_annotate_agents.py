"""Annotate on an agent trajectory: each part shown as what it is, the first wrong tool call judged and kept."""

from __future__ import annotations

import json
from dataclasses import replace
from html.parser import HTMLParser

from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from storage.db import session
from storage.work import get_draft, human_judgment
from tests.pages.conftest import open_app
from tests.utils.chat_records import openai_record, png
from tests.utils.files import write_jsonl
from tests.utils.surface import Surface, notice


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


THINKING = "<think>First, 2+2=4.\n\nSo the sum is 4. Wait, the question asks for 2+3.</think>\n\nIt is 5."


def reasoning_trace(db, tmp_path, n=1):
    options = ConvertOptions(mapping=FieldMapping(step_split="reflections"))
    records = [{"problem": f"What is 2+3? ({i})", "steps": THINKING} for i in range(n)]
    import_file(db, write_jsonl(tmp_path / "r.jsonl", records), project="Reasoning", fmt="generic", options=options)


def test_an_annotator_merges_and_splits_steps_and_everyone_sees_the_new_ones(database_url, db, tmp_path):
    reasoning_trace(db, tmp_path)
    at = open_app("pages/annotate.py")
    at.selectbox(key="annotate_project").set_value("Reasoning").run()
    surface = Surface(at)
    data = surface.data()
    assert data["trace"]["texts"] == [
        "First, 2+2=4.",
        "So the sum is 4.",
        "Wait, the question asks for 2+3.",
        "It is 5.",
    ]
    assert "rl-thinking" in data["trace"]["steps"][0]

    surface.send("merge", surface.judge([1]), step=0)
    data = surface.data()
    assert notice(at) == "Trace #1: steps 1 and 2 merged. Everyone now sees the new steps."
    assert data["trace"]["texts"][0] == "First, 2+2=4.\n\nSo the sum is 4." and len(data["work"]["steps"]) == 3
    assert data["work"]["steps"][0]["verdict"] == 1 and data["reset"] == 1

    surface.send("split", data["work"], step=0, at=len("First, 2+2=4."))
    assert len(surface.data()["trace"]["texts"]) == 4

    surface.send("split", surface.data()["work"], step=3, at=99)
    assert notice(at).startswith("The steps stay as they are: cut inside the text of step 4")


def test_a_judged_trace_keeps_its_steps(database_url, db, tmp_path):
    reasoning_trace(db, tmp_path, n=2)
    at = open_app("pages/annotate.py")
    at.selectbox(key="annotate_project").set_value("Reasoning").run()
    surface = Surface(at)
    first = surface.trace_id
    surface.send("submit", surface.judge([1, 1, 1, 1]))
    assert surface.trace_id != first
    # Reopen the submitted trace by its URL, as "My earlier work" does.
    at.query_params["trace"] = str(first)
    at.run()
    assert surface.trace_id == first
    surface.send("merge", step=0)
    assert "already has judgments (human:admin)" in notice(at)


def test_spans_are_kept_as_a_draft_and_submitted_and_a_bad_span_is_refused(database_url, db, tmp_path):
    from annotation.projects.settings import load_settings, save_settings

    records = [{"problem": "2+3?", "steps": ["2+3 is 6 😀 here.", "So 6."], "label": 0, "final_answer_correct": False}]
    import_file(db, write_jsonl(tmp_path / "s.jsonl", records), project="Spans")
    save_settings(db, "Spans", replace(load_settings(db, "Spans"), taxonomy=("calculation", "logic")))
    at = open_app("pages/annotate.py")
    at.selectbox(key="annotate_project").set_value("Spans").run()
    surface = Surface(at)
    work = surface.judge([-1])
    work["spans"] = [{"step": 0, "start": 4, "end": 8, "type": "calculation", "note": ""}]
    surface.send("draft", work)
    with session(db) as s:
        assert get_draft(s, trace_id=surface.trace_id, username="admin").content["spans"][0]["end"] == 8
    reload = open_app("pages/annotate.py")
    reload.selectbox(key="annotate_project").set_value("Spans").run()
    assert Surface(reload).data()["work"]["spans"][0]["type"] == "calculation"  # a reload keeps them

    bad = dict(work, spans=[{"step": 0, "start": 4, "end": 99, "type": "calculation"}])
    surface.send("draft", bad)
    assert "work.spans[0].end" in notice(at)
    unknown = dict(work, spans=[{"step": 0, "start": 0, "end": 2, "type": "made-up"}])
    surface.send("draft", unknown)
    assert "work.spans[0].type" in notice(at)

    tid = surface.trace_id
    surface.send("submit", work)
    with session(db) as s:
        stored = human_judgment(s, trace_id=tid, username="admin")
    assert [(x["start"], x["end"], x["type"]) for x in stored.spans] == [(4, 8, "calculation")]
    assert "2+3 is 6 😀 here."[4:8] == "is 6"


def test_missing_propagation_and_a_corrected_answer_are_kept_as_a_draft_and_submitted(database_url, db, tmp_path):
    from annotation.projects.settings import load_settings, save_settings

    record = {
        "question": "When did A17 ship?",
        "passages": [["Orders", "A17 shipped on Monday.", "It arrived on Friday."]],
        "gold": "Monday",
        "prediction 1": "It shipped on Sunday. So it came late.",
        "feedback": {"errors": [], "missing-info": [], "corrected-prediction": ""},
    }
    path = tmp_path / "qa.json"
    path.write_text(json.dumps([record]), encoding="utf-8")
    import_file(db, path, project="Finer", fmt="fgrlhf", options=ConvertOptions(answer_split="sentences"))
    settings = load_settings(db, "Finer")
    save_settings(
        db, "Finer", replace(settings, taxonomy=("Wrong-Grounding", "Missing-Answer"), label_mode="every_step")
    )
    at = open_app("pages/annotate.py")
    at.selectbox(key="annotate_project").set_value("Finer").run()
    surface = Surface(at)
    data = surface.data()
    assert data["trace"]["passages"][0]["sentences"][0] == {"id": 1, "text": "A17 shipped on Monday."}
    work = surface.judge([-1, -1])
    work["steps"][1]["because_of"] = 0
    work["missing"] = [
        {"position": 2, "type": "Missing-Answer", "note": "when it arrived", "passage": 1, "sentence": [2]}
    ]
    work["corrected_answer"] = "It shipped on Monday and arrived on Friday."
    surface.send("draft", work)
    reload = open_app("pages/annotate.py")
    reload.selectbox(key="annotate_project").set_value("Finer").run()
    kept = Surface(reload).data()["work"]  # a reload keeps all of it
    assert kept["steps"][1]["because_of"] == 0 and kept["missing"] == work["missing"]
    assert kept["corrected_answer"] == work["corrected_answer"]

    surface.send("draft", dict(work, missing=[{"position": 2, "type": "Missing-Answer", "passage": 4}]))
    assert "work.missing[0].passage" in notice(at)

    tid = surface.trace_id
    surface.send("submit", work)
    with session(db) as s:
        stored = human_judgment(s, trace_id=tid, username="admin")
    assert stored.steps[1]["because_of"] == 0 and stored.corrected_answer == work["corrected_answer"]
    assert stored.missing == work["missing"]
