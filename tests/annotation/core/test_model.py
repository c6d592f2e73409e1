import pytest

from annotation.core.model import (
    NO_ERROR,
    REFERENCE,
    InvalidValue,
    Judgment,
    Source,
    StepLabel,
    Trace,
    first_error_from_verdicts,
    steps_from_first_error,
)


@pytest.mark.parametrize(
    ("text", "kind", "name"),
    [
        ("human:alice", "human", "alice"),
        ("model:gpt-4o-critic", "model", "gpt-4o-critic"),
        ("reference", "reference", ""),
    ],
)
def test_source_round_trips_through_text(text, kind, name):
    source = Source.parse(text)
    assert (source.kind, source.name) == (kind, name)
    assert str(source) == text


@pytest.mark.parametrize("text", ["robot:x", "human", "human:", "reference:bob", "model:  "])
def test_bad_sources_are_refused(text):
    with pytest.raises(InvalidValue) as e:
        Source.parse(text)
    assert e.value.field == "source"


def test_no_error_and_not_judged_stay_distinct_from_step_zero():
    no_error = Judgment(REFERENCE, first_error=NO_ERROR)
    not_judged = Judgment(REFERENCE)
    at_zero = Judgment(REFERENCE, first_error=0)
    assert (no_error.is_judged, no_error.has_error) == (True, False)
    assert (not_judged.is_judged, not_judged.has_error) == (False, None)
    assert (at_zero.is_judged, at_zero.has_error) == (True, True)


@pytest.mark.parametrize(("first_error", "field"), [(3, "first_error"), (-2, "first_error"), (True, "first_error")])
def test_first_error_must_point_at_a_step(first_error, field):
    with pytest.raises(InvalidValue) as e:
        Judgment(REFERENCE, first_error=first_error).validate(n_steps=3)
    assert e.value.field == field


def test_step_verdicts_are_minus_one_zero_or_plus_one():
    Judgment(REFERENCE, steps=[StepLabel(1), StepLabel(0), StepLabel(-1), StepLabel(None)]).validate(4)
    with pytest.raises(InvalidValue, match="step 2"):
        Judgment(REFERENCE, steps=[StepLabel(1), StepLabel(2)]).validate(4)


def test_finish_reason_and_status_are_checked():
    with pytest.raises(InvalidValue):
        Judgment(REFERENCE, finish_reason="bored").validate(1)
    with pytest.raises(InvalidValue):
        Judgment(REFERENCE, status="final").validate(1)


def test_trace_needs_a_problem_and_steps():
    with pytest.raises(InvalidValue, match="empty"):
        Trace("p", []).validate()
    with pytest.raises(InvalidValue):
        Trace(" ", ["a"]).validate()


def test_trace_key_depends_on_id_problem_and_steps_only():
    a = Trace("p", ["x", "y"], record_id="1", generator="g")
    assert a.key() == Trace("p", ["x", "y"], record_id="1").key()
    assert a.key() != Trace("p", ["x", "y"], record_id="2").key()
    assert a.key() != Trace("p", ["x", "z"], record_id="1").key()


def test_verdicts_and_first_error_convert_both_ways():
    assert [s.verdict for s in steps_from_first_error(2, 4)] == [1, 1, -1]
    assert [s.verdict for s in steps_from_first_error(NO_ERROR, 3)] == [1, 1, 1]
    assert steps_from_first_error(None, 3) == []
    assert first_error_from_verdicts([1, 0, -1, -1], finished=True) == 2
    assert first_error_from_verdicts([1, 1], finished=True) == NO_ERROR
    assert first_error_from_verdicts([1, 1], finished=False) is None
