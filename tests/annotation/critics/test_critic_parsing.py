"""Reading a critic's answer: JSON, \\boxed{k}, garbage; through litellm's mock_response, and directly."""

from __future__ import annotations

import asyncio
import json

import pytest

from annotation.critics.config import CriticConfig
from annotation.critics.parsing import parse_answer
from tests.utils.critic_data import make_trace

STEP_JSON = json.dumps(
    {
        "steps": [
            {"step": 0, "verdict": "correct", "explanation": "2 + 2 = 4 holds."},
            {"step": 1, "verdict": "incorrect", "explanation": "Doubling 4 gives 8, not 9."},
            {"step": 2, "verdict": "neutral", "explanation": ""},
        ],
        "first_error": 1,
    }
)


def critique_with(mock_response, template: str = "processbench", **changes):
    from annotation.critics.calling import Caller

    config = CriticConfig(name="mock", model="openai/gpt-4o-mini", template=template, retries=1, **changes)
    caller = Caller(config, api_key="sk-mock", mock_response=mock_response, backoff_base_s=0.001)
    return asyncio.run(caller.critique(make_trace(2)))


def test_json_answer_gives_first_error_and_every_step():
    result = critique_with(f"Here you are:\n```json\n{STEP_JSON}\n```", template="step_json")

    assert result.parsed.how == "json"
    assert result.parsed.first_error == 1
    assert [s.verdict for s in result.parsed.steps] == [1, -1, 0]
    assert result.parsed.steps[1].critique == "Doubling 4 gives 8, not 9."
    assert result.parsed.steps[2].critique is None
    assert result.prompt_tokens > 0 and result.completion_tokens > 0


def test_boxed_answer_gives_the_last_boxed_index():
    result = critique_with("Paragraph 0 is fine, \\boxed{0} is not my answer... Final: \\boxed{2}")

    assert result.parsed.how == "boxed"
    assert result.parsed.first_error == 2
    assert result.parsed.steps == []
    assert "Final" in result.parsed.critique


def test_boxed_minus_one_means_no_error():
    assert parse_answer("All good. \\boxed{-1}", 3).first_error == -1
    assert parse_answer("\\boxed{\\text{1}}", 3).first_error == 1


def test_garbage_is_kept_raw_and_marked_unparsed():
    result = critique_with("I cannot decide, sorry.")

    assert result.parsed.unparsed
    assert result.parsed.first_error is None
    assert result.raw == "I cannot decide, sorry."


def test_index_outside_the_trace_is_unparsed_not_clamped():
    parsed = parse_answer("\\boxed{7}", 3)

    assert parsed.unparsed and parsed.first_error is None
    assert "outside" in parsed.problem


def test_json_with_a_bad_verdict_falls_back_to_boxed():
    bad = json.dumps({"steps": [{"step": 0, "verdict": "maybe"}], "first_error": 0})

    parsed = parse_answer(f"{bad}\nso \\boxed{{-1}}", 3)

    assert parsed.how == "boxed" and parsed.first_error == -1


def test_json_without_first_error_takes_it_from_the_verdicts():
    answer = json.dumps({"steps": [{"verdict": "correct"}, {"verdict": "wrong"}, {"verdict": "correct"}]})

    assert parse_answer(answer, 3).first_error == 1


def test_rate_limit_error_is_retried_then_reported_without_the_key():
    import litellm

    from annotation.critics.calling import CritiqueFailed

    error = litellm.RateLimitError(message="slow down", llm_provider="openai", model="gpt-4o-mini")
    with pytest.raises(CritiqueFailed) as failed:
        critique_with(error)

    assert "RateLimitError after 2 attempt(s)" in str(failed.value)
    assert "sk-mock" not in str(failed.value)


def test_deliberate_template_parses_the_verification():
    result = critique_with("First pass says \\boxed{0}", template="deliberate")

    # The mock answers both passes the same; the second one is parsed and both are kept.
    assert result.parsed.first_error == 0
    assert "--- verification ---" in result.raw


def test_majority_vote_over_samples():
    from annotation.critics.calling import Sample, majority

    samples = [Sample(t, parse_answer(t, 3)) for t in ("\\boxed{1}", "\\boxed{-1}", "\\boxed{1}", "nothing")]

    assert majority(samples).parsed.first_error == 1


def test_an_empty_steps_list_with_a_first_error_is_read():
    parsed = parse_answer('{"steps": [], "first_error": 1}', 3)
    assert (parsed.how, parsed.first_error, parsed.steps) == ("json", 1, [])
