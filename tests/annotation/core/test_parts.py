"""Steps made of parts: their plain text, their stored form, and text traces left exactly as they were."""

import pytest

from annotation.core.model import InvalidValue, Trace
from annotation.core.parts import Part, Step, read_structure, set_steps, step_of_message, steps_of, text_step


def test_a_text_trace_keeps_its_key_and_has_no_structure():
    trace = Trace(problem="1+1?", steps=["1+1=2", "So 2."], record_id="r")
    before = trace.key()
    set_steps(trace, [text_step("1+1=2"), text_step("So 2.")])
    assert trace.step_parts is None and trace.structure() is None and trace.key() == before
    assert [s.parts[0].text for s in steps_of(trace)] == ["1+1=2", "So 2."]


def test_parts_round_trip_through_their_stored_form():
    steps = [
        Step(
            [
                Part("thinking", text="hmm"),
                Part("tool_call", name="f", arguments='{"a": 1', call_id="c1"),
                Part("tool_result", name="f", content="boom", is_error=True, call_id="c1"),
                Part("image", image="ab" * 32 + ".png"),
            ],
            role="assistant",
            agent="solver",
            messages=[2, 3],
        )
    ]
    trace = Trace(problem="p", steps=[])
    set_steps(trace, steps)
    trace.context = {"system": "be brief"}
    again = Trace(problem="p", steps=list(trace.steps))
    read_structure(again, trace.structure())
    assert again.step_parts == steps and again.context == {"system": "be brief"}
    assert again.key() == trace.key() != Trace(problem="p", steps=list(trace.steps)).key()
    assert step_of_message(steps, 3) == 0 and step_of_message(steps, 1) is None


def test_plain_text_names_every_part():
    step = Step([Part("text", text="Checking."), Part("tool_call", name="f", arguments="{}")], role="assistant")
    assert step.text == "Checking.\n\n[tool call] f({})"
    assert Step([Part("text", text="hi")], role="user").text == "[user]\nhi"
    assert Step([Part("text", text="hi")], role="assistant", agent="critic").text == "[assistant (critic)]\nhi"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": "video"}, "p.type"),
        ({"type": "text", "name": "x"}, "p.name"),
        ({"type": "tool_result", "is_error": "yes"}, "p.is_error"),
        ({"type": "tool_call", "arguments": {"a": 1}}, "p.arguments"),
    ],
)
def test_a_malformed_part_is_refused_naming_its_field(raw, field):
    with pytest.raises(InvalidValue) as e:
        Part.from_dict(raw, "p")
    assert e.value.field == field


def test_parts_must_match_the_steps():
    trace = Trace(problem="p", steps=["a", "b"], step_parts=[text_step("a")])
    with pytest.raises(InvalidValue, match="1 steps of parts for 2 steps"):
        trace.validate()
