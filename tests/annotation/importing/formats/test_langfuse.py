"""Langfuse traces: observations ordered by start time, generations as steps, tool runs joining them."""

import json

import pytest

from annotation.core.errors import ImportFailure
from annotation.importing.files import parse_file
from annotation.importing.formats import FORMATS
from annotation.importing.formats.base import ConvertOptions
from annotation.importing.formats.langfuse import LangfuseTrace
from tests.utils.chat_records import openai_record
from tests.utils.files import write_jsonl
from tests.utils.langfuse_records import BAD_ARGUMENTS, FINAL, SYSTEM, TASK, TRACE, by_id, langfuse_record


def parse(tmp_path, records, **kwargs):
    return parse_file(write_jsonl(tmp_path / "traces.jsonl", records), **kwargs)


def kinds(step):
    return [p.type for p in step.parts]


def test_a_trace_is_rebuilt_from_its_observations_in_start_order(tmp_path):
    parsed = parse(tmp_path, [langfuse_record()])
    assert parsed.format == "langfuse" and parsed.warnings == []
    trace = parsed.records[0].trace
    assert trace.problem == TASK
    assert trace.record_id == TRACE and trace.generator == "gpt-4o-2024-08-06"
    assert trace.context == {"system": SYSTEM}
    steps = trace.step_parts
    assert [(s.role, s.agent, kinds(s)) for s in steps] == [
        ("assistant", "support-agent", ["tool_call", "tool_call", "tool_result", "tool_result"]),
        ("event", "support-agent", ["text"]),
        ("assistant", "support-agent", ["text"]),
    ]
    order_call, shipping_call, order, shipping = steps[0].parts
    assert json.loads(order_call.arguments) == {"order_id": "A17"}
    assert (shipping_call.arguments, shipping_call.call_id) == (BAD_ARGUMENTS, "call_2")
    # Tool observations carry no call id: each answers the first open call of its name.
    assert (order.name, order.call_id, order.content, order.is_error) == (
        "get_order",
        "call_1",
        '{"status": "shipped"}',
        None,
    )
    assert (shipping.name, shipping.call_id, shipping.content, shipping.is_error) == (
        "get_shipping",
        "call_2",
        "carrier API timed out",
        True,
    )
    assert steps[1].parts[0].text == 'guardrail.pii_check\n\n{"checked": "reply"}\n\n{"passed": true}'
    assert steps[2].parts[0].text == FINAL
    # The SPAN format_answer names no tool and the empty EVENT checkpoint holds nothing: neither is a step.
    assert "format_answer" not in "".join(trace.steps) and "checkpoint" not in "".join(trace.steps)


def test_metadata_is_small_and_keeps_the_trace_level_facts(tmp_path):
    meta = parse(tmp_path, [langfuse_record()]).records[0].trace.metadata
    assert meta["trace_id"] == TRACE and meta["name"] == "support-run" and meta["session_id"] == "session-9"
    assert meta["observations"] == 8 and meta["total_cost"] == 0.0123 and meta["tags"] == ["support"]
    assert meta["scores"] == [{"name": "resolved", "value": 0, "dataType": "BOOLEAN"}]
    assert "input" not in meta and "output" not in meta and "version" not in meta
    assert len(json.dumps(meta)) < 1000


def test_one_message_per_step_gives_as_many_steps_as_messages(tmp_path):
    parsed = parse(tmp_path, [langfuse_record()], options=ConvertOptions(steps_per="message"))
    steps = parsed.records[0].trace.step_parts
    assert [s.role for s in steps] == ["system", "user", "assistant", "tool", "tool", "event", "assistant"]
    assert [s.messages for s in steps] == [[k] for k in range(7)]


def test_an_observation_whose_parent_is_missing_is_placed_by_its_start_time_and_warned_about(tmp_path):
    record = langfuse_record()
    k, order = by_id(record)["obs-tool-1"]
    order["parentObservationId"] = "obs-ghost"
    parsed = parse(tmp_path, [record])
    [warning] = parsed.warnings
    assert f"observations[{k}]" in warning and "obs-ghost" in warning and "placed by its start time" in warning
    steps = parsed.records[0].trace.step_parts
    assert [p.call_id for p in steps[0].parts if p.type == "tool_result"] == ["call_1", "call_2"]


def test_a_tool_result_whose_call_id_matches_no_call_is_kept_and_warned_about(tmp_path):
    record = langfuse_record()
    k, shipping = by_id(record)["obs-tool-2"]
    shipping["metadata"] = {"tool_call_id": "call_404"}
    parsed = parse(tmp_path, [record])
    [warning] = [w for w in parsed.warnings if "call_404" in w]
    assert f"observations[{k}]" in warning and "record 1" in warning and "kept" in warning
    results = [p for p in parsed.records[0].trace.step_parts[0].parts if p.type == "tool_result"]
    assert [p.call_id for p in results][:2] == ["call_1", "call_404"]
    # The next generation's input still says what call_2 got back: kept too, since nothing answered call_2.
    assert results[2].call_id == "call_2" and results[2].content == "carrier API timed out"


def test_a_tool_observation_answering_no_call_of_that_name_is_kept_and_warned_about(tmp_path):
    record = langfuse_record()
    k, order = by_id(record)["obs-tool-1"]
    order["name"] = "lookup_customer"
    parsed = parse(tmp_path, [record])
    [warning] = parsed.warnings
    assert f"observations[{k}]" in warning and "lookup_customer" in warning and "kept" in warning
    results = [p for p in parsed.records[0].trace.step_parts[0].parts if p.type == "tool_result"]
    assert ("lookup_customer", None) in [(p.name, p.call_id) for p in results]


def test_a_message_without_a_role_is_refused_naming_record_and_field(tmp_path):
    bad = langfuse_record()
    k, second = by_id(bad)["obs-gen-2"]
    second["input"] = [dict(m) for m in second["input"]]
    del second["input"][1]["role"]
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [langfuse_record(), bad])
    assert e.value.record == 2 and e.value.field == f"observations[{k}].input[1].role"
    assert "role" in str(e.value)


def test_an_observation_without_a_valid_start_time_is_refused_naming_it(tmp_path):
    record = langfuse_record()
    k, order = by_id(record)["obs-tool-1"]
    order["startTime"] = "yesterday"
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, [record])
    assert e.value.record == 1 and e.value.field == f"observations[{k}].startTime"


def test_tool_results_only_the_next_generation_input_records_join_the_turn(tmp_path):
    """The OpenAI integration alone logs generations only: the results live in the next call's input."""
    record = langfuse_record()
    record["observations"] = [o for o in record["observations"] if o["type"] != "TOOL"]
    parsed = parse(tmp_path, [record])
    assert parsed.warnings == []
    steps = parsed.records[0].trace.step_parts
    assert kinds(steps[0]) == ["tool_call", "tool_call", "tool_result", "tool_result"]
    assert [(p.name, p.call_id, p.content) for p in steps[0].parts[2:]] == [
        ("get_order", "call_1", '{"status": "shipped"}'),
        ("get_shipping", "call_2", "carrier API timed out"),
    ]


def test_the_trace_input_is_the_task_when_no_user_message_states_it(tmp_path):
    record = langfuse_record()
    for o in record["observations"]:
        if o["type"] == "GENERATION":
            o["input"] = [m for m in o["input"] if m["role"] != "user"]
    trace = parse(tmp_path, [record]).records[0].trace
    assert trace.problem == TASK  # from the trace's input {"question": ...}
    assert trace.step_parts[0].role == "assistant"


def test_a_span_named_as_a_called_tool_is_its_result(tmp_path):
    """Older integrations log a tool run as a SPAN named after the tool."""
    record = langfuse_record()
    for o in record["observations"]:
        if o["type"] == "TOOL":
            o["type"] = "SPAN"
    steps = parse(tmp_path, [record]).records[0].trace.step_parts
    assert [(p.name, p.call_id, p.is_error) for p in steps[0].parts if p.type == "tool_result"] == [
        ("get_order", "call_1", None),
        ("get_shipping", "call_2", True),
    ]


def test_detection_picks_langfuse_and_neither_new_format_takes_openai_messages():
    assert FORMATS.detect([langfuse_record()]).name == "langfuse"
    assert FORMATS.detect([openai_record()]).name == "openai-messages"
    assert not LangfuseTrace().detect([openai_record()])
    assert not LangfuseTrace().detect([{"id": TRACE, "observations": ["obs-1", "obs-2"]}])
    if "otel-genai" in FORMATS.names():
        assert not FORMATS.get("otel-genai").detect([langfuse_record()])


def test_an_agent_used_as_a_tool_answers_after_its_own_steps_which_carry_its_name(tmp_path):
    record = langfuse_record()
    _, order = by_id(record)["obs-tool-1"]
    order["endTime"] = "2025-10-09T08:00:02.300Z"  # get_order now runs a researcher agent of its own
    researcher = dict(order, id="obs-researcher", type="AGENT", name="researcher", parentObservationId="obs-tool-1")
    researcher.update(startTime="2025-10-09T08:00:01.700Z", endTime="2025-10-09T08:00:02.200Z")
    thinking = dict(by_id(record)["obs-gen-2"][1], id="obs-gen-r", parentObservationId="obs-researcher")
    thinking.update(
        startTime="2025-10-09T08:00:01.800Z",
        endTime="2025-10-09T08:00:02.100Z",
        input=[{"role": "user", "content": "Look up order A17."}],
        output={"role": "assistant", "content": "Order A17: shipped."},
    )
    record["observations"] += [researcher, thinking]
    steps = parse(tmp_path, [record]).records[0].trace.step_parts
    assert [(s.role, s.agent, kinds(s)) for s in steps] == [
        ("assistant", "support-agent", ["tool_call", "tool_call", "tool_result"]),
        ("user", None, ["text"]),
        ("assistant", "researcher", ["text", "tool_result"]),
        ("event", "support-agent", ["text"]),
        ("assistant", "support-agent", ["text"]),
    ]
    shipping, order_result = steps[0].parts[2], steps[2].parts[1]
    assert (shipping.name, shipping.call_id, shipping.is_error) == ("get_shipping", "call_2", True)
    # get_order answered the planner's call_1 although the researcher's generation came between.
    assert (order_result.name, order_result.call_id) == ("get_order", "call_1")
