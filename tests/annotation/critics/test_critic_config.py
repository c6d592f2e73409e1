"""Critic configurations, templates and model families."""

from __future__ import annotations

import pytest

from annotation.core.model import InvalidValue, Trace
from annotation.critics.config import CriticConfig, api_key_for, default_name, get_critic, list_critics, save_critic
from annotation.critics.family import family_of, family_warning, same_family
from annotation.critics.templates import BUILT_IN, CUSTOM, preview, render, resolve
from tests.utils.critic_data import make_trace


def test_saved_critic_reads_back_the_same_and_keeps_no_key(engine, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-secret-value")
    monkeypatch.setenv("REDLINE_API_KEY_NAMES", "MY_KEY")
    config = CriticConfig(
        name="judge", model="ollama/qwen2.5", api_base="http://127.0.0.1:11434", samples=3, api_key_env="MY_KEY"
    )

    saved = save_critic(engine, config)
    save_critic(engine, saved.with_changes(temperature=0.5))

    again = get_critic(engine, "judge")
    assert again.temperature == 0.5 and again.samples == 3 and again.api_key_env == "MY_KEY"
    assert [c.name for c in list_critics(engine)] == ["judge"]
    assert api_key_for(again) == "sk-secret-value"
    assert api_key_for(again, {"MY_KEY": "from-secrets"}) == "from-secrets"
    assert "sk-secret-value" not in repr(again)


def test_config_hash_covers_what_changes_a_critique_and_nothing_else():
    base = CriticConfig(name="a", model="openai/gpt-4o-mini")

    assert base.config_hash() == CriticConfig(name="b", model="openai/gpt-4o-mini", api_key_env="X").config_hash()
    for change in ({"model": "openai/gpt-4o"}, {"temperature": 0.3}, {"samples": 2}, {"max_tokens": 9}):
        assert base.with_changes(**change).config_hash() != base.config_hash(), change
    assert base.with_changes(template="step_json").config_hash() != base.config_hash()
    custom = base.with_changes(template=CUSTOM, prompt="Check: $problem")
    assert custom.config_hash() != custom.with_changes(prompt="Check again: $problem").config_hash()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "has space"}, "name"),
        ({"model": " "}, "model"),
        ({"api_base": "localhost:8000"}, "api_base"),
        ({"temperature": 3.0}, "temperature"),
        ({"samples": 0}, "samples"),
        ({"api_key_env": "sk-abc def"}, "api_key_env"),
        ({"template": "nope"}, "template"),
        ({"template": CUSTOM, "prompt": "Check $problme"}, "prompt"),
    ],
)
def test_bad_configurations_name_the_field(changes, field):
    with pytest.raises(InvalidValue) as bad:
        CriticConfig(name="ok", model="openai/x").with_changes(**changes).validate()
    assert bad.value.field == field


def test_processbench_template_tags_steps_from_zero():
    text = render(BUILT_IN["processbench"], make_trace(3))[0]["content"]

    assert "<paragraph_0>\n3 + 3 = 6.\n</paragraph_0>" in text
    assert "<paragraph_2>" in text and "<paragraph_3>" not in text
    assert "\\boxed{}" in text and "What is 3 + 3, then doubled?" in text


def test_templates_show_trace_text_as_written_without_evaluating_it():
    trace = Trace(problem="Pay $problem and {{ 7*7 }} ${answer}", steps=["$tagged_steps"], answer="$x")

    text = render(resolve(CUSTOM, "P: $problem / S: $numbered_steps / A: $answer"), trace)[0]["content"]

    assert text == "P: Pay $problem and {{ 7*7 }} ${answer} / S: Step 0: $tagged_steps / A: $x"


def test_reference_guided_and_deliberate_previews():
    trace = make_trace(2)

    assert "2 + 2 = 4; doubled, 8." in preview(BUILT_IN["reference_guided"], trace)
    deliberate = preview(BUILT_IN["deliberate"], trace)
    assert "verify your own critique" in deliberate and "after the model's first answer" in deliberate


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("openai/gpt-4o-mini", "gpt"),
        ("gpt-4.1", "gpt"),
        ("openai/o3-mini", "gpt"),
        ("anthropic/claude-sonnet-4-5", "claude"),
        ("ollama/qwen2.5:7b", "qwen"),
        ("hosted_vllm/Qwen/Qwen2.5-Math-7B-Instruct", "qwen"),
        ("Meta-Llama-3-70B-Instruct", "llama"),
        ("gemini/gemini-2.0-flash", "gemini"),
        ("mistral/mistral-large-latest", "mistral"),
        ("deepseek/deepseek-reasoner", "deepseek"),
        ("openai/stub-model", None),
        ("", None),
    ],
)
def test_model_families(model, family):
    assert family_of(model) == family


def test_family_warning_names_the_shared_generators():
    assert same_family("ollama/qwen2.5", "Qwen2-7B-Instruct") == "qwen"
    assert same_family("openai/gpt-4o", "Qwen2-7B-Instruct") is None
    warning = family_warning("ollama/qwen2.5", {"Qwen2-7B-Instruct": 3, "Llama-3.1-8B-Instruct": 2})
    assert "Qwen2-7B-Instruct (3 traces)" in warning and "Llama" not in warning
    assert family_warning("openai/gpt-4o", {"Qwen2-7B-Instruct": 3}) is None


def test_default_name_from_a_model_string():
    assert default_name("openai/gpt-4o-mini") == "gpt-4o-mini"
    assert default_name("ollama/qwen2.5:7b") == "qwen2.5-7b"
