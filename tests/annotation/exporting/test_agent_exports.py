"""Training exports of agent traces: tool calls as tool_calls, results as role tool, images as files listed in an
`images` column; text projects' exports keep their shape."""

import json

import pytest
from sqlmodel import select

from annotation.core.model import Judgment, Source, StepLabel
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.run import export_project
from annotation.importing.files import import_file
from annotation.judgments.writing import ANY_VERSION, JudgmentWrite, record
from storage.db import session
from storage.tables import TraceRow
from tests.utils.chat_records import openai_record, png
from tests.utils.files import write_jsonl


def agent_project(engine, tmp_path, image: bool = True):
    import_file(engine, write_jsonl(tmp_path / "a.jsonl", [openai_record(png() if image else None)]), project="A")
    with session(engine) as s:
        trace_id = s.exec(select(TraceRow.id)).first()
        human = Judgment(Source("human", "ann"), first_error=0, steps=[StepLabel(-1, "get_shipping args cut")])
        model = Judgment(Source("model", "critic"), first_error=-1, critique="All fine. \\boxed{-1}")
        record(s, [JudgmentWrite(trace_id, j, expected_version=ANY_VERSION) for j in (human, model)])
        s.commit()


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_critique_sft_of_an_agent_trace_is_the_conversation_with_tool_calls(sqlite_engine, tmp_path):
    agent_project(sqlite_engine, tmp_path)
    out = tmp_path / "out" / "sft.jsonl"
    summary = export_project(sqlite_engine, "A", "critique-sft", out, ExportOptions(source="human:ann"))
    [row] = read(out)
    messages = row["messages"]
    assert [m["role"] for m in messages] == [
        "system", "user", "assistant", "tool", "tool", "assistant", "user", "assistant", "user", "assistant"
    ]  # fmt: skip
    call = messages[2]
    assert call["content"].startswith("<think>\nI should look the order up first.\n</think>")
    assert call["tool_calls"][1] == {
        "id": "call_2",
        "type": "function",
        "function": {"name": "get_shipping", "arguments": '{"order_id": "A17"'},
    }
    assert messages[3] == {
        "role": "tool",
        "content": '{"status": "shipped"}',
        "tool_call_id": "call_1",
        "name": "get_order",
    }
    assert "paragraph 0: the assistant message 1 with its tool results" in messages[-2]["content"]
    assert messages[-1]["content"].endswith("\\boxed{0}") and "get_shipping args cut" in messages[-1]["content"]
    [image] = row["images"]
    assert image.startswith("images/") and (out.parent / image).read_bytes() == png()
    assert f"[image: {image}]" in messages[1]["content"]
    assert summary.images == 1


@pytest.mark.parametrize("output", ["parquet", "hf"])
def test_chat_columns_with_tools_load_with_datasets(sqlite_engine, tmp_path, output):
    from datasets import Dataset, load_from_disk

    agent_project(sqlite_engine, tmp_path)
    out = tmp_path / "out" / ("dpo" if output == "hf" else "dpo.parquet")
    options = ExportOptions(source="human:ann", conversational=True, output=output, pairs=("critique",))
    export_project(sqlite_engine, "A", "dpo", out, options)
    data = load_from_disk(str(out)) if output == "hf" else Dataset.from_parquet(str(out))
    [row] = data.to_list()
    assert row["prompt"][2]["tool_calls"][0]["function"]["name"] == "get_order"
    assert row["prompt"][3]["role"] == "tool" and row["prompt"][3]["tool_call_id"] == "call_1"
    assert row["chosen"][0]["content"].endswith("\\boxed{0}") and row["rejected"][0]["content"].endswith("\\boxed{-1}")
    assert len(row["images"]) == 1


def test_a_merged_step_keeps_its_rounds_in_order_and_a_failed_call_says_so():
    from annotation.core.model import Trace
    from annotation.core.parts import Part, Step
    from annotation.exporting.formats.chat_turns import trajectory_messages

    step = Step(
        [
            Part("tool_call", name="f", arguments="{}", call_id="1"),
            Part("tool_result", name="f", content="boom", is_error=True, call_id="1"),
            Part("tool_call", name="g", arguments="{}", call_id="2"),
            Part("tool_result", name="g", content="ok", call_id="2"),
        ],
        role="assistant",
    )
    messages = trajectory_messages(Trace(problem="p", steps=[step.text], step_parts=[step]))[1:]
    assert [(m["role"], m.get("tool_call_id") or m["tool_calls"][0]["id"]) for m in messages] == [
        ("assistant", "1"), ("tool", "1"), ("assistant", "2"), ("tool", "2")
    ]  # fmt: skip
    assert messages[1]["content"] == "[error] boom" and messages[3]["content"] == "ok"


def test_kto_text_prompt_of_an_agent_trace_reads_its_calls(sqlite_engine, tmp_path):
    agent_project(sqlite_engine, tmp_path, image=False)
    out = tmp_path / "kto.jsonl"
    export_project(sqlite_engine, "A", "kto", out, ExportOptions(source="human:ann"))
    [row] = read(out)
    assert '[tool call (id call_2)] get_shipping({"order_id": "A17")' in row["prompt"]
    assert row["label"] is False and "images" not in row
