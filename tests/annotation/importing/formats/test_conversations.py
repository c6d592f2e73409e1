"""Agent logs in OpenAI's and Anthropic's message shapes: detected, grouped into steps, nothing dropped."""

import base64
import json

import pytest

from annotation.core.errors import ImportFailure
from annotation.core.parts import steps_of
from annotation.importing.files import parse_file
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.generic import FieldMapping
from tests.utils.chat_records import anthropic_record, openai_record, png
from tests.utils.files import write_jsonl


def parse(tmp_path, records, **kwargs):
    return parse_file(write_jsonl(tmp_path / "log.jsonl", records), **kwargs)


def kinds(step):
    return [p.type for p in step.parts]


def test_openai_turns_hold_their_tool_results_and_keep_bad_arguments_as_text(tmp_path):
    parsed = parse(tmp_path, [openai_record()])
    assert parsed.format == "openai-messages"
    trace = parsed.records[0].trace
    assert trace.problem == "Where is my order #A17? It was due yesterday."
    assert trace.context == {"system": "You are a support agent. Use the tools."}
    assert trace.generator == "gpt-4o-2024-08-06" and trace.record_id == "run-7"
    assert trace.metadata == {"id": "run-7", "reward": 0.0}
    steps = trace.step_parts
    assert [s.role for s in steps] == ["assistant", "assistant", "user", "assistant"]
    assert kinds(steps[0]) == ["thinking", "tool_call", "tool_call", "tool_result", "tool_result"]
    assert steps[0].messages == [2, 3, 4]
    bad = steps[0].parts[2]
    assert (bad.name, bad.arguments, bad.call_id) == ("get_shipping", '{"order_id": "A17"', "call_2")
    assert steps[0].parts[3].content == '{"status": "shipped"}' and steps[0].parts[3].call_id == "call_1"
    assert kinds(steps[3]) == ["thinking", "text"]
    assert steps[3].parts[0].text == "The status said shipped, not delivered."
    # The plain text every text reader gets names each part.
    assert '[tool call (id call_2)] get_shipping({"order_id": "A17")' in trace.steps[0]
    assert trace.steps[2] == "[user]\nIt was not!"


def test_one_message_per_step_gives_as_many_steps_as_messages(tmp_path):
    record = openai_record()
    parsed = parse(tmp_path, [record], options=ConvertOptions(steps_per="message"))
    steps = parsed.records[0].trace.step_parts
    assert len(steps) == len(record["messages"])
    assert [s.role for s in steps] == [m["role"] for m in record["messages"]]
    assert [s.messages for s in steps] == [[k] for k in range(len(record["messages"]))]


def test_a_result_answering_no_call_is_kept_and_warned_about(tmp_path):
    record = openai_record()
    record["messages"][4]["tool_call_id"] = "call_404"
    parsed = parse(tmp_path, [record])
    assert any("call_404" in w and "record 1" in w for w in parsed.warnings)
    assert parsed.records[0].trace.step_parts[0].parts[4].call_id == "call_404"


def test_a_message_without_a_role_is_refused_naming_record_and_field(tmp_path):
    bad = openai_record()
    del bad["messages"][5]["role"]
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [openai_record(), bad])
    assert e.value.record == 2 and e.value.field == "messages[5].role"
    assert "role" in str(e.value)


def test_a_tool_call_without_a_name_is_refused(tmp_path):
    bad = openai_record()
    del bad["messages"][2]["tool_calls"][0]["function"]["name"]
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [bad])
    assert e.value.field == "messages[2].tool_calls[0].function.name"


def test_a_record_field_never_hides_the_first_user_message(tmp_path):
    record = {
        "task": "airline-7",
        "messages": [{"role": "user", "content": "Cancel ABC123"}, {"role": "assistant", "content": "Done."}],
    }
    trace = parse(tmp_path, [record]).records[0].trace
    assert trace.problem == "Cancel ABC123" and trace.steps == ["Done."] and trace.metadata == {"task": "airline-7"}


def test_multi_agent_names_are_kept_as_given(tmp_path):
    record = {
        "messages": [
            {"role": "user", "content": "Plan a trip."},
            {"role": "assistant", "name": "planner", "content": "Day 1: museum."},
            {"role": "assistant", "name": "critic", "content": "The museum is closed on Mondays."},
            {"role": "orchestrator", "content": "Revise."},
        ]
    }
    steps = parse(tmp_path, [record]).records[0].trace.step_parts
    assert [(s.role, s.agent) for s in steps] == [
        ("assistant", "planner"),
        ("assistant", "critic"),
        ("orchestrator", None),
    ]


def test_tau_bench_traj_field_is_found_and_every_call_and_result_kept_in_order(datasets):
    source = datasets / "tau-bench" / "gpt-4o-airline.json"
    runs = json.loads(source.read_text())
    parsed = parse_file(source)
    assert parsed.format == "openai-messages" and len(parsed.records) == 200 == len(runs)
    for run, rec in zip(runs, parsed.records, strict=True):
        parts = [p for s in steps_of(rec.trace) for p in s.parts]
        calls = [
            (c["function"]["name"], c["function"]["arguments"], c["id"])
            for m in run["traj"]
            for c in m.get("tool_calls") or []
        ]
        results = [(m["name"], m["content"], m["tool_call_id"]) for m in run["traj"] if m["role"] == "tool"]
        assert [(p.name, p.arguments, p.call_id) for p in parts if p.type == "tool_call"] == calls
        assert [(p.name, p.content, p.call_id) for p in parts if p.type == "tool_result"] == results
        held = sorted(k for s in rec.trace.step_parts for k in s.messages)
        # Every message after the system prompt and the opening request is in exactly one step.
        assert held == list(range(2, len(run["traj"])))
        assert rec.trace.context["system"] == run["traj"][0]["content"]
        assert rec.trace.problem == run["traj"][1]["content"]
        assert rec.trace.metadata["task_id"] == run["task_id"] and rec.trace.metadata["reward"] == run["reward"]


def test_tau_bench_message_mode(datasets):
    source = datasets / "tau-bench" / "gpt-4o-airline.json"
    runs = json.loads(source.read_text())
    parsed = parse_file(source, options=ConvertOptions(steps_per="message"))
    for run, rec in zip(runs, parsed.records, strict=True):
        assert len(rec.trace.steps) == len(run["traj"])


def test_anthropic_blocks_become_parts_and_results_join_the_call(tmp_path):
    parsed = parse(tmp_path, [anthropic_record()])
    assert parsed.format == "anthropic-messages"
    trace = parsed.records[0].trace
    assert trace.problem == "What is the area of the room in the plan?"
    assert trace.context["system"] == "You can run Python."
    assert trace.context["tools"][0]["name"] == "python"
    steps = trace.step_parts
    assert [(s.role, kinds(s)) for s in steps] == [
        ("assistant", ["thinking", "text", "tool_call", "tool_result"]),
        ("user", ["text"]),
        ("assistant", ["tool_call", "tool_result"]),
        ("assistant", ["text"]),
    ]
    call, result = steps[0].parts[2], steps[0].parts[3]
    assert json.loads(call.arguments) == {"code": "4 * 3"} and call.call_id == "toolu_1"
    assert result.is_error is True and result.content == "NameError" and result.call_id == "toolu_1"
    assert steps[2].parts[1].content == "12" and steps[2].parts[1].is_error is None


def test_anthropic_is_error_must_be_a_boolean(tmp_path):
    bad = anthropic_record()
    bad["messages"][2]["content"][0]["is_error"] = "yes"
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [bad])
    assert e.value.field == "messages[2].content[0].is_error"


def test_images_in_messages_are_stored_by_content(tmp_path):
    image = png()
    openai = parse(tmp_path, [openai_record(image)])
    trace = openai.records[0].trace
    [name] = trace.images
    assert name.endswith(".png") and openai.images[name].data == image
    anthropic = parse(tmp_path, [anthropic_record(image)])
    assert anthropic.records[0].trace.images == [name]


def test_a_remote_image_stays_a_link(tmp_path):
    record = openai_record()
    record["messages"][5]["content"] = [{"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}]
    parsed = parse(tmp_path, [record])
    assert parsed.records[0].trace.step_parts[1].parts[0].image == "https://example.com/x.png"
    assert parsed.images == {}


def test_an_image_over_the_limit_is_refused_with_the_limit_named(tmp_path, monkeypatch):
    monkeypatch.setenv("REDLINE_IMAGE_MAX_MB", "0.0001")
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [openai_record(png(64, 64, (1, 2, 3)) + b"\0" * 200)])
    assert "images may be at most 0.0001 MB (set REDLINE_IMAGE_MAX_MB" in str(e.value)
    assert e.value.field == "messages[1].content[1].image_url"


def test_generic_mapping_reads_messages_and_puts_a_per_message_first_error_on_its_step(tmp_path):
    record = {"log": openai_record()["messages"], "task": "Order #A17", "wrong_message": 5}
    mapping = FieldMapping(problem="task", steps="log", first_error="wrong_message")
    # The mapped column states the task, so the first user message is a step of its own.
    for steps_per, step in (("turn", 2), ("message", 5)):
        options = ConvertOptions(mapping=mapping, steps_per=steps_per)
        rec = parse(tmp_path, [record], fmt="generic", options=options).records[0]
        assert rec.trace.problem == "Order #A17"
        assert rec.judgments[0].first_error == step
        assert rec.trace.step_parts[step].messages[0] == 5


def test_generic_first_error_on_the_system_prompt_is_refused(tmp_path):
    record = {"log": openai_record()["messages"], "task": "Order", "wrong_message": 0}
    options = ConvertOptions(mapping=FieldMapping(problem="task", steps="log", first_error="wrong_message"))
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [record], fmt="generic", options=options)
    assert e.value.field == "wrong_message" and "not in any step" in str(e.value)


def test_anthropic_system_blocks_must_hold_text(tmp_path):
    bad = anthropic_record()
    bad["system"] = [{"type": "text", "text": ["not", "text"]}]
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [bad])
    assert e.value.field == "system[0].text"


def test_an_image_inside_a_tool_result_stays_with_the_result(tmp_path):
    record = anthropic_record()
    record["messages"][2]["content"][0]["content"] = [
        {"type": "text", "text": "chart:"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(png()).decode()},
        },
    ]
    steps = parse(tmp_path, [record]).records[0].trace.step_parts
    assert kinds(steps[0]) == ["thinking", "text", "tool_call", "tool_result", "image"]
    assert kinds(steps[1]) == ["text"] and steps[1].role == "user"
