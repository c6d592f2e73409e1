"""OpenTelemetry GenAI spans (OTLP/JSON): a run rebuilt from its spans by start time, nothing dropped."""

import json

import pytest

from annotation.core.errors import ImportFailure
from annotation.core.model import InvalidValue
from annotation.importing.files import parse_file
from annotation.importing.formats import FORMATS
from annotation.importing.formats.base import ConvertContext, ConvertOptions
from annotation.importing.formats.otel_genai import OTelGenAI
from annotation.importing.formats.reading import RawRecord
from tests.utils.chat_records import openai_record
from tests.utils.files import write_jsonl
from tests.utils.otel_records import (
    BAD_ARGUMENTS,
    FINAL,
    SYSTEM,
    TASK,
    TOOLS,
    TRACE,
    any_value,
    openllmetry_record,
    otel_record,
    span,
    spans_by_name,
    sub_agent_record,
)


def parse(tmp_path, records, **kwargs):
    return parse_file(write_jsonl(tmp_path / "spans.jsonl", records), **kwargs)


def kinds(step):
    return [p.type for p in step.parts]


def set_attribute(s, key, value):
    s["attributes"] = [a for a in s["attributes"] if a["key"] != key] + [{"key": key, "value": any_value(value)}]


def test_an_agent_run_is_rebuilt_from_its_spans_in_start_order(tmp_path):
    parsed = parse(tmp_path, [otel_record()])
    assert parsed.format == "otel-genai" and parsed.warnings == []
    trace = parsed.records[0].trace
    assert trace.problem == TASK
    assert trace.record_id == TRACE and trace.generator == "gpt-4o-2024-08-06"
    assert trace.context == {"system": SYSTEM, "tools": TOOLS}
    steps = trace.step_parts
    assert [(s.role, s.agent, kinds(s)) for s in steps] == [
        ("assistant", "support-agent", ["thinking", "tool_call", "tool_call", "tool_result", "tool_result"]),
        ("assistant", "support-agent", ["text"]),
    ]
    thinking, order_call, shipping_call, order, shipping = steps[0].parts
    assert thinking.text == "I should look the order up first."
    assert json.loads(order_call.arguments) == {"order_id": "A17"} and order_call.call_id == "call_1"
    # Arguments that are not valid JSON stay the text they were.
    assert (shipping_call.name, shipping_call.arguments, shipping_call.call_id) == (
        "get_shipping",
        BAD_ARGUMENTS,
        "call_2",
    )
    # get_order and get_shipping started together: the one that ended first comes first.
    assert (order.name, order.call_id, order.content, order.is_error) == (
        "get_order",
        "call_1",
        '{"status": "shipped"}',
        None,
    )
    assert (shipping.name, shipping.call_id, shipping.is_error) == ("get_shipping", "call_2", True)
    assert shipping.content == "carrier API timed out"
    # The second chat's output was a structured value (arrayValue/kvlistValue), not JSON text.
    assert steps[1].parts[0].text == FINAL
    assert steps[0].messages == [1, 2, 3] and steps[1].messages == [4]
    assert "[tool error of get_shipping (id call_2)]" in trace.steps[0]


def test_metadata_is_small_and_keeps_the_trace_level_facts(tmp_path):
    trace = parse(tmp_path, [otel_record()]).records[0].trace
    assert trace.metadata == {
        "trace_id": TRACE,
        "root_span": "invoke_agent support-agent",
        "spans": 6,
        "service": "support-bot",
        "agent": "support-agent",
        "conversation_id": "conv_17",
        "duration_ms": 5000.0,
        "input_tokens": 1600,
        "output_tokens": 120,
    }


def test_the_order_comes_from_start_times_not_from_the_file(tmp_path):
    record = otel_record()
    scopes = record["resourceSpans"][0]["scopeSpans"]
    scopes.reverse()
    for scope in scopes:
        scope["spans"].reverse()
    steps = parse(tmp_path, [record]).records[0].trace.step_parts
    assert [p.call_id for p in steps[0].parts if p.type == "tool_result"] == ["call_1", "call_2"]
    assert steps[1].parts[0].text == FINAL


def test_one_message_per_step_gives_as_many_steps_as_messages(tmp_path):
    parsed = parse(tmp_path, [otel_record()], options=ConvertOptions(steps_per="message"))
    steps = parsed.records[0].trace.step_parts
    assert [(s.role, kinds(s)) for s in steps] == [
        ("user", ["text"]),
        ("assistant", ["thinking", "tool_call", "tool_call"]),
        ("tool", ["tool_result"]),
        ("tool", ["tool_result"]),
        ("assistant", ["text"]),
    ]
    assert [s.messages for s in steps] == [[0], [1], [2], [3], [4]]
    assert parsed.records[0].trace.problem == TASK


def test_a_span_whose_parent_is_missing_is_placed_by_its_start_time_and_warned_about(tmp_path):
    record = otel_record()
    where, order = spans_by_name(record)["execute_tool get_order"]
    order["parentSpanId"] = "ffffffffffffffff"
    parsed = parse(tmp_path, [record])
    [warning] = parsed.warnings
    assert where in warning and "ffffffffffffffff" in warning and "placed by its start time" in warning
    steps = parsed.records[0].trace.step_parts
    order_result = steps[0].parts[3]
    assert order_result.call_id == "call_1"
    # Outside the agent span now: the step it joins keeps the agent of the model's turn.
    assert steps[0].agent == "support-agent"


def test_the_agent_root_missing_from_the_file_leaves_the_steps_in_order_without_an_agent(tmp_path):
    record = otel_record()
    scope = record["resourceSpans"][0]["scopeSpans"][1]
    scope["spans"] = [s for s in scope["spans"] if s["name"] != "invoke_agent support-agent"]
    parsed = parse(tmp_path, [record])
    assert len(parsed.warnings) == 4  # two chats, two tool runs
    steps = parsed.records[0].trace.step_parts
    assert [(s.agent, kinds(s)) for s in steps] == [
        (None, ["thinking", "tool_call", "tool_call", "tool_result", "tool_result"]),
        (None, ["text"]),
    ]


def test_a_tool_result_answering_no_call_is_kept_and_warned_about(tmp_path):
    record = otel_record()
    where, shipping = spans_by_name(record)["execute_tool get_shipping"]
    set_attribute(shipping, "gen_ai.tool.call.id", "call_404")
    parsed = parse(tmp_path, [record])
    [warning] = [w for w in parsed.warnings if "call_404" in w]
    assert where in warning and "record 1" in warning and "kept" in warning
    results = [p for p in parsed.records[0].trace.step_parts[0].parts if p.type == "tool_result"]
    assert "call_404" in [p.call_id for p in results]
    # The second chat's input still says what call_2 got back: kept too, since no span answered call_2.
    assert "call_2" in [p.call_id for p in results]


def test_tool_results_only_the_next_chat_input_records_join_the_turn(tmp_path):
    """The OpenAI instrumentation alone writes chat spans only: the results live in the next call's input."""
    record = otel_record()
    for scope in record["resourceSpans"][0]["scopeSpans"]:
        scope["spans"] = [s for s in scope["spans"] if not s["name"].startswith("execute_tool")]
    parsed = parse(tmp_path, [record])
    assert parsed.warnings == []
    steps = parsed.records[0].trace.step_parts
    assert kinds(steps[0]) == ["thinking", "tool_call", "tool_call", "tool_result", "tool_result"]
    results = steps[0].parts[3:]
    assert [(p.name, p.call_id, p.content) for p in results] == [
        ("get_order", "call_1", '{"status": "shipped"}'),
        ("get_shipping", "call_2", "carrier API timed out"),
    ]


def test_a_new_user_message_in_a_later_chat_input_is_a_step(tmp_path):
    record = otel_record()
    _, second = spans_by_name(record)["chat gpt-4o"]
    assert second["spanId"] == "c0000000000000c2"
    history = json.loads(
        next(a for a in second["attributes"] if a["key"] == "gen_ai.input.messages")["value"]["stringValue"]
    )
    history.append({"role": "user", "parts": [{"type": "text", "content": "Hurry up please."}]})
    set_attribute(second, "gen_ai.input.messages", json.dumps(history))
    steps = parse(tmp_path, [record]).records[0].trace.step_parts
    assert [(s.role, kinds(s)) for s in steps] == [
        ("assistant", ["thinking", "tool_call", "tool_call", "tool_result", "tool_result"]),
        ("user", ["text"]),
        ("assistant", ["text"]),
    ]
    assert steps[1].parts[0].text == "Hurry up please."


def test_a_message_without_a_role_is_refused_naming_record_and_field(tmp_path):
    bad = otel_record()
    where, first = spans_by_name(bad)["chat gpt-4o #2"]
    assert first["spanId"] == "c0000000000000c1"
    outputs = json.loads(
        next(a for a in first["attributes"] if a["key"] == "gen_ai.output.messages")["value"]["stringValue"]
    )
    del outputs[0]["role"]
    set_attribute(first, "gen_ai.output.messages", json.dumps(outputs))
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [otel_record(), bad])
    assert e.value.record == 2
    assert e.value.field == f"{where}.attributes[gen_ai.output.messages][0].role"
    assert "role" in str(e.value)


def test_a_record_without_gen_ai_spans_is_refused_naming_resource_spans(tmp_path):
    record = {
        "resourceSpans": [
            {"scopeSpans": [{"spans": [span("a1", None, "GET /health", 0, 5, {"http.request.method": "GET"})]}]}
        ]
    }
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [record], fmt="otel-genai")
    assert e.value.record == 1 and e.value.field == "resourceSpans"
    assert "GenAI" in e.value.message


def test_a_span_without_a_start_time_is_refused_naming_it(tmp_path):
    record = otel_record()
    where, order = spans_by_name(record)["execute_tool get_order"]
    del order["startTimeUnixNano"]
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [record])
    assert e.value.field == f"{where}.startTimeUnixNano"


def test_a_record_of_two_traces_gives_one_trace_each(tmp_path):
    record = otel_record()
    other = openllmetry_record()["resourceSpans"][0]
    record["resourceSpans"].append(other)
    ctx = ConvertContext(file="spans.jsonl", options=ConvertOptions())
    converted = OTelGenAI().convert_all(RawRecord(1, 1, record), ctx)
    assert [r.trace.record_id for r in converted] == [TRACE, "0af7651916cd43dd8448eb211c80319c"]
    assert [r.trace.problem for r in converted] == [TASK, "What is 2 + 2?"]
    # convert() alone reads one trace per record: such a record is refused there, never cut down to one trace.
    with pytest.raises(InvalidValue) as e:
        OTelGenAI().convert(RawRecord(1, 1, record), ctx)
    assert e.value.field == "resourceSpans" and "2 traces" in e.value.message
    # An import reads every trace the record holds.
    parsed = parse(tmp_path, [record], fmt="otel-genai")
    assert [r.trace.record_id for r in parsed.records] == [TRACE, "0af7651916cd43dd8448eb211c80319c"]


def test_older_flattened_prompt_and_completion_attributes_are_read(tmp_path):
    parsed = parse(tmp_path, [openllmetry_record()], fmt="otel-genai")
    trace = parsed.records[0].trace
    assert trace.problem == "What is 2 + 2?" and trace.context == {"system": "Answer briefly."}
    assert [kinds(s) for s in trace.step_parts] == [["tool_call", "tool_result"], ["text"]]
    call, result = trace.step_parts[0].parts
    assert (call.name, call.arguments, call.call_id) == ("calculator", '{"expression": "2 + 2"}', "call_9")
    assert (result.name, result.content, result.call_id) == ("calculator", "4", "call_9")


def test_output_messages_that_are_not_json_are_kept_as_text_with_a_warning(tmp_path):
    record = otel_record()
    where, first = spans_by_name(record)["chat gpt-4o #2"]
    set_attribute(first, "gen_ai.output.messages", '[{"role": "assistant", "parts": [{"type": "te')
    parsed = parse(tmp_path, [record])
    assert any(where in w and "not valid JSON" in w for w in parsed.warnings)
    assert parsed.records[0].trace.step_parts[0].parts[0].text.startswith('[{"role": "assistant"')


def test_detection_picks_otel_and_neither_new_format_takes_openai_messages():
    assert FORMATS.detect([otel_record()]).name == "otel-genai"
    assert FORMATS.detect([openai_record()]).name == "openai-messages"
    assert not OTelGenAI().detect([openai_record()])
    if "langfuse" in FORMATS.names():
        assert not FORMATS.get("langfuse").detect([otel_record()])


def test_an_agent_used_as_a_tool_answers_after_its_own_steps_which_carry_its_name(tmp_path):
    trace = parse(tmp_path, [sub_agent_record()]).records[0].trace
    assert trace.problem == "Summarise the 2024 report."
    steps = trace.step_parts
    assert [(s.role, s.agent, kinds(s)) for s in steps] == [
        ("assistant", "planner", ["tool_call"]),
        ("user", None, ["text"]),  # the task the planner handed over, as the researcher was given it
        ("assistant", "researcher", ["text", "tool_result"]),
        ("assistant", "planner", ["text"]),
    ]
    assert steps[1].parts[0].text == "2024 numbers"
    result = steps[2].parts[1]
    assert (result.name, result.call_id, result.content) == ("ask_researcher", "call_r", "Revenue rose 12%.")
    # Each agent's system prompt is kept once: the first one's as the trace's, the other's under its name.
    assert trace.context["system"] == "You plan.\n\n[researcher]\nYou research."


def test_a_turn_seen_only_in_a_later_history_keeps_its_calls(tmp_path):
    from tests.utils.otel_records import chat, span, user

    call = {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "c1", "name": "lookup", "arguments": '{"q": 1}'}],
    }
    result = {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}]}
    answer = {"role": "assistant", "parts": [{"type": "text", "content": "It is 42."}]}
    record = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            span(
                                "a0000000000000a1",
                                None,
                                "invoke_agent",
                                0,
                                100,
                                {"gen_ai.operation.name": "invoke_agent"},
                            ),
                            chat("c000000000000001", 1, 10, [user("What is it?")], None),
                            chat("c000000000000002", 20, 30, [user("What is it?"), call, result], [answer]),
                        ]
                    }
                ]
            }
        ]
    }
    trace = parse(tmp_path, [record], fmt="otel-genai").records[0].trace
    parts = [p for s in trace.step_parts for p in s.parts]
    assert [(p.type, p.name, p.arguments) for p in parts if p.type == "tool_call"] == [
        ("tool_call", "lookup", '{"q": 1}')
    ]
    assert [p.content for p in parts if p.type == "tool_result"] == ["42"]
