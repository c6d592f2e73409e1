"""Which model family a model string belongs to: a judge tends to favour outputs of its own family."""

from __future__ import annotations

import re

# Checked in order; the first family whose pattern matches wins (e.g. "deepseek-r1-distill-qwen" is deepseek).
FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("deepseek", r"deepseek"),
        ("qwen", r"qwen|qwq"),
        ("llama", r"llama|codellama"),
        ("mistral", r"mistral|mixtral|codestral|magistral|ministral|pixtral"),
        ("gemma", r"gemma"),
        ("gemini", r"gemini"),
        ("claude", r"claude|anthropic"),
        ("gpt", r"gpt|openai|(^|[/_-])o[134](-|$)|chatgpt"),
        ("phi", r"(^|[/_-])phi"),
        ("grok", r"grok|xai"),
        ("command", r"command-r|cohere"),
        ("glm", r"glm|chatglm|zhipu"),
        ("yi", r"(^|[/_-])yi-"),
        ("internlm", r"internlm"),
        ("kimi", r"kimi|moonshot"),
    )
)


def family_of(model: str | None) -> str | None:
    """The family of a model string such as ``openai/gpt-4o`` or ``Qwen2.5-Math-7B-Instruct``; None when unknown."""
    if not model:
        return None
    text = model.strip().lower()
    for name, pattern in FAMILIES:
        # Provider prefixes like "openai/" or "hosted_vllm/" say how a model is served, not who made it.
        if name == "gpt" and "/" in text:
            head, _, tail = text.partition("/")
            if head in ("openai", "azure", "text-completion-openai") and not pattern.search(tail):
                continue
        if pattern.search(text):
            return name
    return None


def same_family(critic_model: str | None, generator: str | None) -> str | None:
    """The shared family when both are known and equal, else None."""
    critic, gen = family_of(critic_model), family_of(generator)
    return critic if critic is not None and critic == gen else None


def family_warning(critic_model: str, generators: dict[str, int]) -> str | None:
    """A warning naming the generators (with their trace counts) that share the critic's family."""
    shared = {g: n for g, n in generators.items() if same_family(critic_model, g)}
    if not shared:
        return None
    family = family_of(critic_model)
    names = ", ".join(f"{g} ({n} trace{'s' if n != 1 else ''})" for g, n in sorted(shared.items()))
    return (
        f"The critic {critic_model} and these generators are all {family} models: {names}. "
        "Judges tend to favour their own family's outputs; consider a critic from another family."
    )
