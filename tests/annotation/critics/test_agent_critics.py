"""Critics on agent traces: tool calls, results and the system prompt in the prompt as they were; images sent to a
critic that sees them, and counted and announced to one that does not."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import delete, select

from annotation.core.parts import steps_of
from annotation.critics.runs import run_critic
from annotation.critics.templates import BUILT_IN, render
from annotation.importing.files import import_file, parse_file
from tests.utils.chat_records import anthropic_record, openai_record, png
from tests.utils.critic_data import stub_critic
from tests.utils.files import write_jsonl
from tests.utils.openai_stub import OpenAIStub


def test_the_prompt_shows_calls_results_and_the_context_faithfully(tmp_path):
    trace = parse_file(write_jsonl(tmp_path / "a.jsonl", [anthropic_record()])).records[0].trace
    text = render(BUILT_IN["processbench"], trace)[0]["content"]
    assert text.startswith("The following is a math problem")
    assert "[System prompt given to the model]\nYou can run Python." in text
    assert '"input_schema"' in text and "[Task]\nWhat is the area of the room in the plan?" in text
    assert '[tool call (id toolu_1)] python({"code": "4 * 3"})' in text
    assert "[tool error (id toolu_1)]\nNameError" in text
    assert "<paragraph_1>\n[user]\nHurry up please.\n</paragraph_1>" in text
    assert len(steps_of(trace)) == text.count("</paragraph_")


def test_a_text_trace_prompt_is_unchanged(tmp_path):
    from annotation.core.model import Trace

    trace = Trace(problem="1+1?", steps=["1+1=2"])
    assert render(BUILT_IN["processbench"], trace) == [
        {"role": "user", "content": BUILT_IN["processbench"].text.replace("$problem", "1+1?").replace(
            "$tagged_steps", "<paragraph_0>\n1+1=2\n</paragraph_0>"
        )}
    ]  # fmt: skip


def test_images_reach_a_critic_that_sees_them_and_a_text_only_one_is_told(sqlite_engine, tmp_path):
    image = png(12, 9)
    import_file(sqlite_engine, write_jsonl(tmp_path / "v.jsonl", [openai_record(image)]), project="vision")
    with OpenAIStub("Step 0 is wrong. \\boxed{0}") as stub:
        seeing = stub_critic(sqlite_engine, stub.api_base, name="seeing", vision=True)
        done = run_critic(sqlite_engine, seeing, "vision")
        content = stub.bodies[-1]["messages"][0]["content"]
        blind = stub_critic(sqlite_engine, stub.api_base, name="blind", vision=False)
        blind_done = run_critic(sqlite_engine, blind, "vision")
        blind_content = stub.bodies[-1]["messages"][0]["content"]
    assert done.status == "done" and done.unseen_images == 0
    assert isinstance(content, list) and content[0]["type"] == "text"
    [picture] = [c for c in content if c["type"] == "image_url"]
    assert picture["image_url"]["url"].startswith("data:image/png;base64,")
    assert "[image:" in content[1]["text"]
    assert isinstance(blind_content, str)
    assert "this trace shows 1 image(s) that you are not shown" in blind_content
    assert blind_done.unseen_images == 1 and "1 trace(s) show images" in blind_done.warning
    hashes = {seeing.config_hash(), blind.config_hash(), replace(blind, vision=None).config_hash()}
    assert len(hashes) == 3


def test_a_critique_of_steps_merged_during_the_run_is_stored_as_failed(sqlite_engine, tmp_path):
    from annotation.core.model import Judgment
    from annotation.core.records import trace_from_row
    from annotation.critics.runs import RunFilter, RunProgress, _Result, _Work, _write, start_run
    from annotation.workflow.restructure import restructure
    from storage.db import session
    from storage.tables import JudgmentRow, TraceRow

    records = [{"problem": "2+3?", "steps": ["a", "b", "c"], "label": -1, "final_answer_correct": True}]
    import_file(sqlite_engine, write_jsonl(tmp_path / "p.jsonl", records), project="P")
    with session(sqlite_engine) as s:
        row = s.exec(select(TraceRow)).first()
        work = _Work(row.id, row.n_steps, trace_from_row(row), steps_version=row.steps_version)
        project_id = row.project_id
    with session(sqlite_engine) as s:
        s.exec(delete(JudgmentRow))
        s.commit()
    restructure(sqlite_engine, trace_id=work.trace_id, username="ann", op="merge", step=0)
    config = stub_critic(sqlite_engine, "http://127.0.0.1:9/v1")
    run_id = start_run(sqlite_engine, config, project_id, 1, RunFilter())
    judgment = Judgment(config.source, first_error=1)
    _write(sqlite_engine, config, run_id, [_Result(work, judgment, False, False, 0.0)], RunProgress(run_id, 1))
    with session(sqlite_engine) as s:
        stored = s.exec(select(JudgmentRow).where(JudgmentRow.source_kind == "model")).one()
    assert stored.status == "failed" and "merged or split" in stored.extra["error"] and stored.first_error is None
