"""Rules that split one text into steps, for files that keep a solution as a single string.

Long reasoning ("thinking" traces of hundreds of paragraphs) splits by ``paragraphs``, or by ``reflections``:
paragraphs, cut again where the model turns back on itself ("Wait,", "Alternatively,", "Let me check", ...),
which is where reasoning models' errors are usually found or made. A ``<think>...</think>`` block becomes
thinking steps, and the answer after it text steps (``reasoning_steps``).
"""

from __future__ import annotations

import json
import re

from annotation.core.model import InvalidValue
from annotation.core.parts import Part, Step, text_step

RULES = (
    "auto",
    "list",
    "step-n",
    "blank-lines",
    "paragraphs",
    "reflections",
    "lines",
    "sentences",
    "regex:PATTERN",
)
# Where reasoning models turn back on themselves: a new step starts at each (at a sentence's start).
REFLECTION_MARKERS = (
    "Wait",
    "But wait",
    "Alternatively",
    "Let me check",
    "Let me verify",
    "Let me double-check",
    "Let me re-check",
    "Hold on",
    "Hmm",
    "On second thought",
)
_REFLECTION = re.compile(
    r"(?:(?<=[.!?])[ \t]+|(?<=\n))(?=(?:" + "|".join(re.escape(m) for m in REFLECTION_MARKERS) + r")\b[,.!:]?)"
)
_THINK = re.compile(r"<think>(.*?)(?:</think>|$)(.*)", re.DOTALL)

_STEP_N = re.compile(r"(?im)^\s*(?:\*\*)?step\s*\d+\s*(?:\*\*)?\s*[:.)-]\s*(?:\*\*)?\s*")
_BLANK = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9$\\(])")


def check_rule(rule: str) -> str:
    if rule in RULES[:-1]:
        return rule
    if rule.startswith("regex:") and len(rule) > len("regex:"):
        try:
            re.compile(rule[len("regex:") :])
        except re.error as e:
            raise InvalidValue("step_split", f"the regex does not compile: {e}") from e
        return rule
    raise InvalidValue("step_split", f"unknown rule {rule!r}; use one of {', '.join(RULES)}")


def split_steps(value: object, rule: str, field: str) -> list[str]:
    if isinstance(value, list):
        steps = value
    elif not isinstance(value, str):
        raise InvalidValue(field, f"expected a list of steps or a text to split, got {type(value).__name__}")
    else:
        steps = _split_text(value, rule, field)
    steps = [s.strip() if isinstance(s, str) else s for s in steps]
    for i, s in enumerate(steps):
        if not isinstance(s, str):
            raise InvalidValue(field, f"item {i} is {type(s).__name__}, expected text")
    steps = [s for s in steps if s]
    if not steps:
        raise InvalidValue(field, "the steps list is empty")
    return steps


def _split_text(value: str, rule: str, field: str) -> list:
    stripped = value.strip()
    if rule in ("auto", "list") and stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    if rule == "list":
        raise InvalidValue(field, "expected a list of steps (a JSON list in a text cell is fine)")
    if rule == "auto":
        if len(_STEP_N.findall(value)) >= 1:
            rule = "step-n"
        elif _BLANK.search(stripped):
            rule = "blank-lines"
        else:
            rule = "lines"
    if rule == "step-n":
        parts = _STEP_N.split(value)
        # Text before "Step 1" is preamble, not a step, unless there is nothing numbered at all.
        return parts[1:] if len(parts) > 1 else parts
    if rule in ("blank-lines", "paragraphs"):
        return _BLANK.split(value)
    if rule == "reflections":
        return [piece for paragraph in _BLANK.split(value) for piece in _REFLECTION.split(paragraph)]
    if rule == "lines":
        return value.splitlines()
    if rule == "sentences":
        return _SENTENCE.split(value)
    if rule.startswith("regex:"):
        return re.split(rule[len("regex:") :], value)
    raise InvalidValue("step_split", f"unknown rule {rule!r}")


def reasoning_steps(value: object, rule: str, field: str) -> list[Step] | None:
    """A text holding a ``<think>`` block as steps: the thinking split by ``rule`` (paragraphs when the rule is
    ``auto``) as thinking steps, then the answer after it as text steps. None for any other value."""
    if not isinstance(value, str) or "<think>" not in value:
        return None
    match = _THINK.search(value)
    before = value[: match.start()].strip()
    thinking_rule = "paragraphs" if rule in ("auto", "list") else rule
    steps = [text_step(t) for t in _pieces(before, thinking_rule)]
    steps += [Step([Part("thinking", text=t)]) for t in _pieces(match.group(1), thinking_rule)]
    steps += [text_step(t) for t in _pieces(match.group(2), thinking_rule)]
    if not steps:
        raise InvalidValue(field, "the steps list is empty")
    return steps


def _pieces(text: str, rule: str) -> list[str]:
    text = text.replace("</think>", "").strip()
    if not text:
        return []
    return [p.strip() for p in _split_text(text, rule, "steps") if isinstance(p, str) and p.strip()]
