"""OpenAI chat messages: ``{role, content, tool_calls, tool_call_id, name}`` as agent logs and tau-bench keep them.

``content`` is text, null, or a list of parts (``text``, ``image_url``, ``refusal``). An assistant's
``tool_calls`` (``{id, type: "function", function: {name, arguments}}``) become tool-call parts with the
arguments kept as the text they were, valid JSON or not; the legacy ``function_call`` too. A ``tool`` (or
``function``) message is the result of the call it names. ``reasoning_content`` / ``reasoning`` (what
DeepSeek and OpenAI-compatible servers return) and ``<think>`` blocks are thinking. ``name`` on any other
message is the agent's (or participant's) name in multi-agent logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotation.core.model import InvalidValue, Trace
from annotation.core.parts import Part, arguments_text, set_steps
from annotation.importing.formats import conversation as conv
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord, scalar_metadata
from annotation.importing.formats.reading import RawRecord

MESSAGE_FIELDS = ("messages", "traj", "trajectory", "conversation", "conversations", "chat", "history")
TOOL_ROLES = ("tool", "function", "ipython")
# Content blocks only Anthropic's messages have: a record holding one is the other format's.
ANTHROPIC_BLOCKS = frozenset({"tool_use", "tool_result", "thinking", "redacted_thinking"})


def looks_like_messages(value: Any) -> bool:
    """A list of message objects; most with a role (one without is the adapter's to refuse, by name)."""
    if not isinstance(value, list) or not value or not all(isinstance(m, dict) for m in value[:50]):
        return False
    return sum("role" in m for m in value[:50]) * 2 > min(len(value), 50)


def block_types(messages: list[Any]) -> set[str]:
    return {
        b.get("type")
        for m in messages
        if isinstance(m, dict) and isinstance(m.get("content"), list)
        for b in m["content"]
        if isinstance(b, dict)
    }


def anthropic_shaped(record: dict[str, Any]) -> bool:
    """Anthropic's shape: its own content blocks, or the system prompt beside the messages rather than in them."""
    messages = record.get("messages")
    if not looks_like_messages(messages):
        return False
    if block_types(messages) & ANTHROPIC_BLOCKS:
        return True
    roles = {m.get("role") for m in messages}
    return "system" in record and not roles & {"system", "tool", "developer"}


class OpenAIMessages(Adapter):
    name = "openai-messages"
    title = "OpenAI chat messages"
    description = (
        "a conversation per record (messages, or traj as tau-bench writes it): role, content, tool_calls, "
        "tool results as role 'tool'"
    )
    file_fields = {"steps": "messages"}

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        for record in sample:
            found = next((record[f] for f in MESSAGE_FIELDS if looks_like_messages(record.get(f))), None)
            # SWE-agent keeps its chat in "history" beside the "trajectory" that is its steps.
            if found is None or anthropic_shaped(record) or isinstance(record.get("trajectory"), list):
                return False
        return bool(sample)

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        data = raw.data
        where = conv.messages_field(data, ctx.options.messages_field, MESSAGE_FIELDS)
        value = data[where]
        if not isinstance(value, list):
            raise InvalidValue(where, f"expected a list of messages, got {type(value).__name__}")
        messages = [read_message(m, k, f"{where}[{k}]", ctx) for k, m in enumerate(value)]
        return chat_record(raw, ctx, data, where, messages, generator=data.get("model"))


def chat_record(
    raw: RawRecord,
    ctx: ConvertContext,
    data: dict[str, Any],
    where: str,
    messages: list[conv.Message],
    *,
    generator: Any = None,
    system: str | None = None,
    tools: Any = None,
    given_problem: str | None = None,
) -> ImportedRecord:
    """A trace from a record's messages, grouped as the importer chose; the record's other fields are kept.
    ``given_problem``: the task as a mapped column states it (then every message is a step)."""
    steps_per = conv.check_steps_per(ctx.options.steps_per)
    warn = lambda m: ctx.warn(raw, m)  # noqa: E731
    grouped = conv.group(messages, steps_per, where=where, warn=warn, problem_given=given_problem is not None)
    # The user's own first message states the task; a record field only when no message does.
    problem = given_problem or grouped.problem or conv.problem_from_record(data, None)
    if not problem:
        raise InvalidValue(where, "no user message states the task, and no field holds it (problem, question, ...)")
    trace = Trace(
        problem=problem,
        steps=[],
        generator=generator if isinstance(generator, str) else None,
        record_id=_record_id(data),
        source_file=ctx.file,
        metadata=scalar_metadata(data, {where, "model"}),
        images=grouped.problem_images,
    )
    set_steps(trace, grouped.steps)
    context: dict[str, Any] = {}
    if grouped.system or system:
        context["system"] = "\n\n".join(s for s in (system, grouped.system) if s)
    if tools is None and isinstance(data.get("tools"), list):
        tools = data["tools"]
    if tools:
        context["tools"] = tools
    trace.context = context
    return ImportedRecord(trace, [], raw.number, raw.line)


def _record_id(data: dict[str, Any]) -> str | None:
    for key in ("id", "record_id", "trace_id", "instance_id"):
        if isinstance(data.get(key), str | int) and not isinstance(data.get(key), bool):
            return str(data[key])
    if isinstance(data.get("task_id"), str | int) and not isinstance(data.get("task_id"), bool):
        trial = data.get("trial")
        return f"{data['task_id']}" + (f"/trial {trial}" if isinstance(trial, int) else "")
    return None


def read_message(raw: Any, index: int, where: str, ctx: ConvertContext) -> conv.Message:
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"a message is an object, got {type(raw).__name__}")
    role = conv.role_of(raw, where)
    name = conv.optional_text(raw, "name", where)
    parts: list[Part] = []
    for key in ("reasoning_content", "reasoning"):
        thought = raw.get(key)
        if isinstance(thought, str) and thought.strip():
            parts.append(Part("thinking", text=thought))
    if role in TOOL_ROLES:
        parts.append(
            Part(
                "tool_result",
                name=name,
                content=content_text(raw.get("content")),
                call_id=conv.optional_text(raw, "tool_call_id", where),
                is_error=raw.get("is_error") if isinstance(raw.get("is_error"), bool) else None,
            )
        )
        return conv.Message(index, role, parts)
    parts.extend(_content_parts(raw.get("content"), f"{where}.content", ctx))
    calls = raw.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise InvalidValue(f"{where}.tool_calls", f"expected a list, got {type(calls).__name__}")
        parts.extend(tool_call_part(c, f"{where}.tool_calls[{k}]") for k, c in enumerate(calls))
    if isinstance(raw.get("function_call"), dict):
        parts.append(tool_call_part({"function": raw["function_call"]}, f"{where}.function_call"))
    return conv.Message(index, role, parts, agent=name)


def tool_call_part(raw: Any, where: str) -> Part:
    """An OpenAI tool call (``{id, type, function: {name, arguments}}``, or the legacy ``function_call``) as a part."""
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"a tool call is an object, got {type(raw).__name__}")
    function = raw.get("function", raw)
    if not isinstance(function, dict):
        raise InvalidValue(f"{where}.function", f"expected an object, got {type(function).__name__}")
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidValue(f"{where}.function.name", "missing: a tool call names its tool")
    return Part(
        "tool_call",
        name=name,
        arguments=arguments_text(function.get("arguments")),
        call_id=conv.optional_text(raw, "id", where),
    )


def _content_parts(content: Any, where: str, ctx: ConvertContext) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return conv.text_parts(content)
    if not isinstance(content, list):
        raise InvalidValue(where, f"expected text or a list of parts, got {type(content).__name__}")
    parts: list[Part] = []
    for k, block in enumerate(content):
        at = f"{where}[{k}]"
        if isinstance(block, str):
            parts.extend(conv.text_parts(block))
            continue
        if not isinstance(block, dict):
            raise InvalidValue(at, f"a content part is an object, got {type(block).__name__}")
        kind = block.get("type")
        if kind in ("text", "input_text", "output_text", "refusal"):
            text = block.get("text", block.get("refusal"))
            if not isinstance(text, str):
                raise InvalidValue(f"{at}.text", "missing: a text part holds text")
            parts.extend(conv.text_parts(text))
        elif kind in ("image_url", "input_image"):
            url = block.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            parts.append(Part("image", image=ctx.image(url, f"{at}.image_url")))
        else:
            raise InvalidValue(f"{at}.type", f"{kind!r} is not a content part Redline reads (text, image_url)")
    return parts


def content_text(content: Any) -> str | None:
    """A tool result's content as text: a list of text parts is joined; anything else is kept as JSON text."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(b, dict) and b.get("type") == "text" for b in content):
        return "\n\n".join(str(b.get("text", "")) for b in content)
    return arguments_text(content)
