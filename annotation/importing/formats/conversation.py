"""From a conversation's messages to a trace's steps, whatever format the messages came in.

Each chat format reads its own messages into ``Message`` (a role, an agent and parts); grouping them into
steps is shared and is the importer's choice (``STEPS_PER``):

- ``turn`` (the default for agents): leading system messages become the trace's context, the first user
  message its problem, and each assistant message together with the tool results that follow it is one
  step; every other message (a user's reply, a later system note) is a step of its own.
- ``message``: one message per step, so a trace has exactly as many steps as messages.

Either way no message is dropped, and each step remembers the messages it holds (``Step.messages``), so a
label given per message lands on its step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from annotation.core.model import InvalidValue
from annotation.core.parts import Part, Step

STEPS_PER = ("turn", "message")
MODEL_ROLES = ("assistant", "model", "ai")
SYSTEM_ROLES = ("system", "developer")
# Fields a record may keep its task in, when no user message states it (message mode, or a log without one).
PROBLEM_FIELDS = ("problem", "question", "prompt", "instruction", "task", "query", "input")
_THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.DOTALL)


@dataclass(slots=True)
class Message:
    index: int
    role: str
    parts: list[Part]
    agent: str | None = None


@dataclass(slots=True)
class Conversation:
    steps: list[Step]
    problem: str | None = None
    problem_images: list[str] = field(default_factory=list)
    system: str | None = None


def check_steps_per(value: str) -> str:
    if value not in STEPS_PER:
        raise InvalidValue("steps_per", f"{value!r} is not one of {', '.join(STEPS_PER)}")
    return value


def text_parts(text: str) -> list[Part]:
    """Text as parts: ``<think>...</think>`` blocks (as DeepSeek-R1 and Qwen write them) become thinking."""
    if "<think>" not in text:
        return [Part("text", text=text)] if text else []
    parts: list[Part] = []
    last = 0
    for m in _THINK.finditer(text):
        before = text[last : m.start()]
        if before.strip():
            parts.append(Part("text", text=before.strip("\n")))
        parts.append(Part("thinking", text=m.group(1).strip("\n")))
        last = m.end()
    rest = text[last:]
    if rest.strip():
        parts.append(Part("text", text=rest.strip("\n")))
    return parts


def plain_text(parts: list[Part]) -> str:
    return "\n\n".join(p.text or "" for p in parts if p.type == "text" and p.text)


def group(
    messages: list[Message],
    steps_per: str,
    *,
    where: str,
    warn: Callable[[str], None],
    problem_given: bool = False,
) -> Conversation:
    """``problem_given``: the record states the task elsewhere (a mapped column), so the first user message is a
    step like any other rather than the problem."""
    if not messages:
        raise InvalidValue(where, "the conversation has no messages")
    _check_call_ids(messages, where, warn)
    if steps_per == "message":
        first_user = next((m for m in messages if m.role == "user"), None)
        return Conversation(
            steps=[Step(m.parts, role=m.role, agent=m.agent, messages=[m.index]) for m in messages],
            problem=plain_text(first_user.parts) if first_user else None,
        )
    return _by_turn(messages, where, problem_given)


def _by_turn(messages: list[Message], where: str, problem_given: bool) -> Conversation:
    out = Conversation(steps=[])
    k = 0
    system = []
    while k < len(messages) and messages[k].role in SYSTEM_ROLES and not _has_media(messages[k]):
        system.append(plain_text(messages[k].parts))
        k += 1
    out.system = "\n\n".join(s for s in system if s) or None
    if not problem_given and k < len(messages) and messages[k].role == "user" and plain_text(messages[k].parts).strip():
        first = messages[k]
        if all(p.type in ("text", "image") for p in first.parts):
            out.problem = plain_text(first.parts)
            out.problem_images = [p.image for p in first.parts if p.type == "image" and p.image]
            k += 1
    turn: Step | None = None
    for m in messages[k:]:
        if m.role in MODEL_ROLES:
            turn = Step(list(m.parts), role=m.role, agent=m.agent, messages=[m.index])
            out.steps.append(turn)
            continue
        # Results that answer the turn's calls join it; whatever else the message says is a step of its own.
        results, rest = _results_and_rest(m.parts)
        if turn is not None and results:
            turn.parts.extend(results)
            turn.messages.append(m.index)
            if rest:
                out.steps.append(Step(rest, role=m.role, agent=m.agent, messages=[m.index]))
                turn = None
            continue
        out.steps.append(Step(list(m.parts), role=m.role, agent=m.agent, messages=[m.index]))
        turn = None
    if not out.steps:
        raise InvalidValue(where, "the conversation has no message after the problem to judge")
    return out


def _results_and_rest(parts: list[Part]) -> tuple[list[Part], list[Part]]:
    """A message's tool results (with the images that came inside a result, right after it) and the rest."""
    results: list[Part] = []
    rest: list[Part] = []
    in_result = False
    for p in parts:
        if p.type == "tool_result" or (in_result and p.type == "image"):
            results.append(p)
            in_result = True
        else:
            rest.append(p)
            in_result = False
    return results, rest


def _has_media(m: Message) -> bool:
    return any(p.type != "text" for p in m.parts)


def _check_call_ids(messages: list[Message], where: str, warn: Callable[[str], None]) -> None:
    calls = {p.call_id for m in messages for p in m.parts if p.type == "tool_call" and p.call_id}
    for m in messages:
        for p in m.parts:
            if p.type == "tool_result" and p.call_id and p.call_id not in calls:
                warn(f"{where}[{m.index}]: the tool result answers call {p.call_id!r}, which no message makes; kept")


def role_of(raw: dict[str, Any], where: str) -> str:
    role = raw.get("role")
    if role is None or (isinstance(role, str) and not role.strip()):
        raise InvalidValue(f"{where}.role", "missing: every message needs a role")
    if not isinstance(role, str):
        raise InvalidValue(f"{where}.role", f"expected text, got {type(role).__name__}")
    return role


def optional_text(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidValue(f"{where}.{key}", f"expected text, got {type(value).__name__}")


def messages_field(data: dict[str, Any], chosen: str | None, candidates: tuple[str, ...]) -> str:
    """The record's field holding the messages: the one the person named, else the first candidate present."""
    if chosen:
        if chosen not in data:
            raise InvalidValue(chosen, "missing (named as the field holding the messages)")
        return chosen
    for name in candidates:
        if isinstance(data.get(name), list):
            return name
    raise InvalidValue(candidates[0], f"missing: no list of messages under {', '.join(candidates)}")


def problem_from_record(data: dict[str, Any], chosen: str | None) -> str | None:
    names = (chosen,) if chosen else PROBLEM_FIELDS
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value
        if chosen and value is not None and not isinstance(value, str):
            raise InvalidValue(chosen, f"expected text, got {type(value).__name__}")
    return None
