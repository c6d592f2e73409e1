"""SWE-agent trajectories, both shapes: one step per trajectory entry, calls from the history, bad entries named."""

import json

import pytest

from annotation.core.errors import ImportFailure
from annotation.importing.files import parse_file
from annotation.importing.formats import FORMATS
from annotation.importing.formats.swe_agent import SWEAgent
from tests.utils.chat_records import openai_record
from tests.utils.files import write_jsonl
from tests.utils.swe_agent_records import (
    CALL_IDS,
    INSTANCE,
    ISSUE,
    MODEL,
    PATCH,
    assistant_indices,
    new_record,
    old_record,
)


def parse(tmp_path, *records, name=f"{INSTANCE}.traj"):
    # One JSON object per line (JSON Lines); a pretty-printed .traj file is read whole (see the test below).
    return parse_file(write_jsonl(tmp_path / name, list(records)), fmt="swe-agent")


def kinds(step):
    return [p.type for p in step.parts]


def test_old_shape_gives_one_step_per_entry_with_thought_call_and_result_in_order(tmp_path):
    record = old_record()
    parsed = parse(tmp_path, record)
    assert parsed.format == "swe-agent" and parsed.warnings == []
    trace = parsed.records[0].trace
    entries = record["trajectory"]
    assert len(trace.steps) == len(trace.step_parts) == len(entries) == 6
    # The demonstration (is_demo) is not the problem: the first user message of the run is.
    assert trace.problem == record["history"][2]["content"] and ISSUE in trace.problem
    assert trace.context == {"system": record["history"][0]["content"]}
    assert trace.answer == PATCH
    assert trace.record_id == INSTANCE  # the file's name, as SWE-agent names them
    assert trace.generator is None  # 0.x's model_stats name no model
    for k, (step, entry) in enumerate(zip(trace.step_parts, entries, strict=True)):
        assert step.role == "assistant" and step.messages == [k]
        assert kinds(step) == ["thinking", "tool_call", "tool_result"]
        thinking, call, result = step.parts
        assert thinking.text == entry["thought"]
        assert call.name == entry["action"].split()[0]
        assert call.arguments == json.dumps({"command": entry["action"]})
        assert (result.content, result.name, result.call_id) == (entry["observation"], call.name, None)
        assert trace.steps[k] == step.text
    assert [s.parts[1].name for s in trace.step_parts] == ["find_file", "open", "echo", "python", "edit", "submit"]
    assert trace.step_parts[2].parts[2].content == ""  # the command ran and printed nothing: still its result
    assert trace.metadata == {
        "environment": "swe_main",
        "exit_status": "submitted",
        "model_stats": record["info"]["model_stats"],
    }


def test_new_shape_takes_call_ids_names_and_arguments_from_the_history(tmp_path):
    record = new_record()
    parsed = parse(tmp_path, record, name="run.jsonl")
    assert parsed.warnings == []
    trace = parsed.records[0].trace
    entries = record["trajectory"]
    assert len(trace.step_parts) == len(entries) == 6
    assert trace.problem == record["history"][3]["content"][0]["text"]  # a list of text parts
    assert trace.context == {"system": record["history"][0]["content"]}
    assert (trace.answer, trace.generator, trace.record_id) == (PATCH, MODEL, INSTANCE)
    said = [record["history"][i]["tool_calls"][0] for i in assistant_indices(record)]
    for k, (step, entry, call_made) in enumerate(zip(trace.step_parts, entries, said, strict=True)):
        assert step.messages == [k] and kinds(step) == ["thinking", "tool_call", "tool_result"]
        thinking, call, result = step.parts
        assert thinking.text == entry["thought"]
        assert (call.name, call.call_id) == (call_made["function"]["name"], CALL_IDS[k])
        assert call.arguments == call_made["function"]["arguments"]  # the text as given, not re-encoded
        assert (result.content, result.name, result.call_id) == (entry["observation"], call.name, CALL_IDS[k])
    assert [s.parts[1].name for s in trace.step_parts] == ["find_file", "open", "bash", "bash", "edit", "submit"]
    assert json.loads(trace.step_parts[3].parts[1].arguments) == {"command": "python reproduce.py"}
    # The demonstration's call is no step's.
    assert all(p.call_id != "call_demo_create" for s in trace.step_parts for p in s.parts)
    meta = trace.metadata
    assert meta["exit_status"] == "submitted" and meta["swe_agent_version"] == "1.0.1"
    assert meta["replay_config"] == record["replay_config"] and meta["environment"] == "main"
    assert not {"trajectory", "history", "submission", "query", "info"} & meta.keys()


def test_arguments_that_are_not_json_are_kept_verbatim(tmp_path):
    record = new_record()
    broken = '{"search": "return re.sub(r\\"[\\\\s-]\\", separator, text)", "replace": '  # cut short by the model
    record["history"][assistant_indices(record)[4]]["tool_calls"][0]["function"]["arguments"] = broken
    trace = parse(tmp_path, record).records[0].trace
    call = trace.step_parts[4].parts[1]
    assert (call.name, call.arguments, call.call_id) == ("edit", broken, CALL_IDS[4])
    assert f"[tool call (id {CALL_IDS[4]})] edit({broken})" in trace.steps[4]


def test_odd_entries_are_kept_as_steps(tmp_path):
    record = old_record()
    record["trajectory"][1]["observation"] = None  # not executed
    record["trajectory"][3]["thought"] = ""
    record["trajectory"].append({"action": None, "observation": None, "thought": None})
    record["trajectory"].append({})
    parsed = parse(tmp_path, record)
    steps = parsed.records[0].trace.step_parts
    assert len(steps) == len(record["trajectory"]) == 8
    assert kinds(steps[1]) == ["thinking", "tool_call"]
    assert kinds(steps[3]) == ["tool_call", "tool_result"]
    assert steps[6].parts == [] and steps[7].parts == []
    assert [s.messages for s in steps] == [[k] for k in range(8)]
    assert parsed.warnings == []


def test_a_history_turn_the_trajectory_lacks_does_not_shift_later_calls(tmp_path):
    record = new_record()
    retried = {
        "role": "assistant",
        "content": "Let me look at the package first.",
        "thought": "Let me look at the package first.",
        "action": "open src/pyslug/__init__.py",
        "agent": "main",
        "tool_calls": [{"id": "call_dropped", "type": "function", "function": {"name": "open", "arguments": "{}"}}],
        "message_type": "action",
    }
    record["history"].insert(assistant_indices(record)[1], retried)
    steps = parse(tmp_path, record).records[0].trace.step_parts
    assert [s.parts[1].call_id for s in steps] == CALL_IDS


def test_a_step_whose_action_no_message_made_is_named_from_its_text_and_warned_about(tmp_path):
    record = new_record()
    record["trajectory"][3]["action"] = "python -m pytest tests/test_core.py"
    parsed = parse(tmp_path, record)
    step = parsed.records[0].trace.step_parts[3]
    assert (step.parts[1].name, step.parts[1].call_id) == ("python", None)
    assert [s.parts[1].call_id for s in parsed.records[0].trace.step_parts[4:]] == CALL_IDS[4:]
    assert any("trajectory[3]" in w and "record 1" in w for w in parsed.warnings)


def test_a_tool_message_answering_no_call_is_kept_and_warned_about(tmp_path):
    record = new_record()
    answer = assistant_indices(record)[2] + 1
    record["history"][answer]["tool_call_ids"] = ["call_404"]
    record["history"].append({"role": "tool", "content": "late output", "tool_call_id": "call_stray"})
    parsed = parse(tmp_path, record)
    assert parsed.records[0].trace.step_parts[2].parts[2].call_id == "call_404"
    assert any("call_404" in w and "trajectory[2]" in w for w in parsed.warnings)
    assert any("call_stray" in w and f"history[{len(record['history']) - 1}]" in w for w in parsed.warnings)


def test_problem_falls_back_to_the_run_config_and_is_refused_when_nothing_holds_it(tmp_path):
    record = new_record()
    record["history"] = [m for m in record["history"] if m["role"] != "user"]
    assert parse(tmp_path, record).records[0].trace.problem == ISSUE
    del record["replay_config"]
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, record)
    assert e.value.field == "history" and "problem_statement" in e.value.message


def _not_a_list(record):
    record["trajectory"] = "find_file core.py"


def _entry_not_object(record):
    record["trajectory"][3] = "python reproduce.py"


def _action_list(record):
    record["trajectory"][3]["action"] = ["python", "reproduce.py"]


def _observation_number(record):
    record["trajectory"][2]["observation"] = 0


def _thought_object(record):
    record["trajectory"][1]["thought"] = {"text": "Let's open it."}


def _empty(record):
    record["trajectory"] = []


@pytest.mark.parametrize(
    ("breaks", "field"),
    [
        (_not_a_list, "trajectory"),
        (_empty, "trajectory"),
        (_entry_not_object, "trajectory[3]"),
        (_action_list, "trajectory[3].action"),
        (_observation_number, "trajectory[2].observation"),
        (_thought_object, "trajectory[1].thought"),
    ],
)
@pytest.mark.parametrize("shape", [old_record, new_record])
def test_a_bad_entry_is_refused_naming_record_and_place(tmp_path, shape, breaks, field):
    bad = shape()
    breaks(bad)
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, shape(), bad, name="runs.jsonl")
    assert (e.value.record, e.value.field) == (2, field)


def test_a_tool_call_without_a_name_is_refused_naming_it(tmp_path):
    record = new_record()
    i = assistant_indices(record)[0]
    del record["history"][i]["tool_calls"][0]["function"]["name"]
    with pytest.raises(ImportFailure) as e:
        parse(tmp_path, record)
    assert e.value.field == f"history[{i}].tool_calls[0].function.name"


@pytest.mark.parametrize("shape", [old_record, new_record])
def test_the_adapter_knows_both_shapes_and_not_a_chat_log(shape):
    assert SWEAgent().detect([shape()])
    assert not SWEAgent().detect([openai_record()])
    assert FORMATS.detect([openai_record()]).name == "openai-messages"


# The OpenAI adapter leaves records with a 'trajectory' to this one, though their 'history' is chat messages.
@pytest.mark.parametrize("shape", [old_record, new_record])
def test_detection_picks_swe_agent_for_both_shapes(shape):
    assert FORMATS.detect([shape()]).name == "swe-agent"


# SWE-agent writes .traj files with json.dumps(..., indent=2): one JSON object over many lines.
def test_a_pretty_printed_traj_file_is_read(tmp_path):
    path = tmp_path / f"{INSTANCE}.traj"
    path.write_text(json.dumps(new_record(), indent=2), encoding="utf-8")
    assert len(parse_file(path, fmt="swe-agent").records) == 1
