"""A Langfuse trace as its API returns it (``GET /api/public/traces/{id}``): the trace with its ``observations``.

Observations are ordered by ``startTime`` (ties: the one that ended first, then the id) and nested by
``parentObservationId``; the nearest ``AGENT`` observation above a step names its agent.

- ``GENERATION``: a model call. Its ``output`` (a message ``{role, content, tool_calls}``, text, content
  blocks, or an OpenAI response's ``choices``) is the model's step. Its ``input`` (chat messages, or
  ``{messages, tools, system}``, or text) repeats the history: the first generation's gives the system
  prompt and the user's task, a later one's only what no observation recorded (a new user message, the
  result of a tool no observation ran).
- ``TOOL``, and a ``SPAN`` (or another observation type) named as a tool a generation called and nothing
  answered yet: a tool run, its ``output`` the result, answering the first open call of that name of the
  latest generation that made one (or the call ``metadata.tool_call_id`` names). One with generations of
  its own below it (an agent used as a tool) answers when it ends, after them. ``level: ERROR`` marks it an
  error, its ``statusMessage`` the content when there is no output.
- ``EVENT``: a step of role ``event`` (its name, input, output and status message), unless it holds nothing
  but a name.

Content blocks of OpenAI (``text``, ``image_url``) and Anthropic (``thinking``, ``tool_use``, ``tool_result``,
``image``) are read; a block of another kind is kept as its JSON text. When no user message states the task,
the trace's own ``input`` does. An observation whose parent is not in the record is placed by its start
time, with a warning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from annotation.core.model import InvalidValue
from annotation.core.parts import Part, arguments_text
from annotation.importing.formats import conversation as conv
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord
from annotation.importing.formats.otel_genai import Replay, rebuilt_record, result_text
from annotation.importing.formats.reading import RawRecord

TOOL_ROLES = ("tool", "function")
# LangChain's message types, as some integrations leave them.
ROLE_NAMES = {"human": "user", "ai": "assistant"}
CALL_ID_KEYS = ("tool_call_id", "toolCallId", "call_id")
MEDIA_PREFIX = "@@@langfuseMedia:"


class LangfuseTrace(Adapter):
    name = "langfuse"
    title = "Langfuse trace"
    description = (
        "a Langfuse trace with its observations per record: generations are the model's steps, tool "
        "observations the results, events steps of their own"
    )
    file_fields = {"steps": "observations"}

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        return bool(sample) and all(_looks_like_trace(r) for r in sample)

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        data = raw.data
        value = data.get("observations")
        if not isinstance(value, list):
            raise InvalidValue("observations", "missing: a Langfuse trace lists its observations")
        observations = [_observation(o, f"observations[{k}]") for k, o in enumerate(value)]
        if not observations:
            raise InvalidValue("observations", "the trace has no observations")
        by_id: dict[str, Observation] = {}
        for o in observations:
            if o.id in by_id:
                raise InvalidValue(f"{o.where}.id", f"observation {o.id} appears twice (first at {by_id[o.id].where})")
            by_id[o.id] = o
        ordered = sorted(observations, key=Observation.order)
        for o in ordered:
            if o.parent and o.parent not in by_id:
                ctx.warn(
                    raw,
                    f"{o.where}: observation {o.id} ({o.name or o.type}) names parent {o.parent}, which is not in "
                    "the record; placed by its start time",
                )
        return _Rebuild(raw, ctx, by_id).run(ordered)


def _looks_like_trace(record: dict[str, Any]) -> bool:
    observations = record.get("observations")
    if not isinstance(observations, list) or not observations:
        return False
    return all(isinstance(o, dict) and "type" in o and "startTime" in o for o in observations[:50])


class Observation:
    __slots__ = ("data", "end", "id", "name", "parent", "start", "type", "where")

    def __init__(self, data: dict[str, Any], where: str) -> None:
        self.data = data
        self.where = where
        self.id = _required_text(data, "id", where)
        self.type = _required_text(data, "type", where).upper()
        self.start = _time(data.get("startTime"), f"{where}.startTime", required=True)
        end = _time(data.get("endTime"), f"{where}.endTime", required=False)
        self.end = end or self.start
        name = data.get("name")
        self.name = name if isinstance(name, str) and name else None
        parent = data.get("parentObservationId")
        if parent is not None and not isinstance(parent, str):
            raise InvalidValue(f"{where}.parentObservationId", f"expected an id as text, got {type(parent).__name__}")
        self.parent = parent or None

    def order(self) -> tuple[datetime, datetime, str]:
        return (self.start, self.end, self.id)

    @property
    def failed(self) -> bool:
        return self.data.get("level") == "ERROR"

    @property
    def status(self) -> str | None:
        message = self.data.get("statusMessage")
        return message if isinstance(message, str) and message else None


def _observation(raw: Any, where: str) -> Observation:
    if isinstance(raw, str):
        raise InvalidValue(where, "an observation id, not the observation: export each trace with its observations")
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"an observation is an object, got {type(raw).__name__}")
    return Observation(raw, where)


def _required_text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidValue(f"{where}.{key}", "missing: every observation has an id, a type and a start time")
    return value


def _time(value: Any, where: str, *, required: bool) -> datetime | None:
    if value is None or value == "":
        if required:
            raise InvalidValue(where, "missing: the steps are ordered by the time their observations started")
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise InvalidValue(where, f"expected an ISO 8601 time such as 2025-01-31T12:00:00.000Z, got {value!r}")


class _Rebuild:
    def __init__(self, raw: RawRecord, ctx: ConvertContext, by_id: dict[str, Observation]) -> None:
        self.raw, self.ctx, self.by_id = raw, ctx, by_id
        self.replay = Replay()
        # The generations' tool calls (by the generation's number), for tool observations to answer by name.
        self.calls: list[tuple[int, Part]] = []
        self.used: set[int] = set()
        self.generations = 0
        self.models: list[str] = []
        self.tools: Any = None
        self.with_tool_below = {a for o in by_id.values() if o.type == "TOOL" for a in self.ancestors(o)}
        self.with_generation_below = {a for o in by_id.values() if o.type == "GENERATION" for a in self.ancestors(o)}

    def ancestors(self, o: Observation) -> list[str]:
        out, seen, parent = [], {o.id}, o.parent
        while parent and parent in self.by_id and parent not in seen:
            seen.add(parent)
            out.append(parent)
            parent = self.by_id[parent].parent
        return out

    def agent(self, o: Observation) -> str | None:
        for oid in self.ancestors(o):
            above = self.by_id[oid]
            if above.type == "AGENT" and above.name:
                return above.name
        return None

    def when(self, o: Observation) -> tuple[datetime, datetime, str]:
        # A tool that runs generations of its own (an agent used as a tool) answers when it ends, after them.
        if o.type not in ("GENERATION", "EVENT") and o.id in self.with_generation_below:
            return (o.end, o.end, o.id)
        return o.order()

    def run(self, ordered: list[Observation]) -> ImportedRecord:
        for o in sorted(ordered, key=self.when):
            if o.type == "GENERATION":
                self.generation(o)
            elif o.type == "EVENT":
                self.event(o)
            elif o.type == "TOOL" or (o.id not in self.with_tool_below and self.open_call(o.name) is not None):
                self.tool(o)
        data = self.raw.data
        if not self.replay.messages:
            raise InvalidValue("observations", "no generation has an output and no tool observation ran")
        record_id = data.get("id")
        return rebuilt_record(
            self.raw,
            self.ctx,
            self.replay,
            where="observations",
            record_id=record_id if isinstance(record_id, str) and record_id else None,
            generator=self.models[0] if self.models else None,
            metadata=self.metadata(len(ordered)),
            fallback_problem=lambda: _task(data.get("input"), "input", self.ctx),
            tools=self.tools,
        )

    def open_call(self, name: str | None) -> Part | None:
        """The first call of tool ``name`` that nothing answered yet, of the latest generation that made one."""
        found: tuple[int, Part] | None = None
        for number, p in reversed(self.calls):
            if found is not None and number != found[0]:
                break
            if p.name == name and id(p) not in self.used and (not p.call_id or p.call_id not in self.replay.answered):
                found = (number, p)
        return found[1] if found else None

    def generation(self, o: Observation) -> None:
        model = o.data.get("model")
        if isinstance(model, str) and model and model not in self.models:
            self.models.append(model)
        inputs, system, tools = _generation_input(o.data.get("input"), f"{o.where}.input", self.ctx)
        agent = self.agent(o)
        if system:
            self.replay.system(system, agent)
        if tools and self.tools is None:
            self.tools = tools
        self.replay.model_input(inputs, agent, o.where)
        outputs = _generation_output(o.data.get("output"), f"{o.where}.output", self.ctx)
        if not outputs:
            why = f"it failed ({o.status or 'level ERROR'})" if o.failed else "it has no output"
            self.ctx.warn(self.raw, f"{o.where}: generation {o.name or o.id} gives no step: {why}")
            return
        self.replay.output(outputs, agent, o.where)
        self.generations += 1
        self.calls.extend((self.generations, p) for m in outputs for p in m.parts if p.type == "tool_call")

    def tool(self, o: Observation) -> None:
        metadata = o.data.get("metadata")
        call_id = next((str(metadata[k]) for k in CALL_ID_KEYS if isinstance(metadata, dict) and metadata.get(k)), None)
        call = next((p for _, p in self.calls if call_id and p.call_id == call_id), None)
        if call_id is None:
            call = self.open_call(o.name)
            if call is not None:
                call_id = call.call_id
            else:
                self.ctx.warn(
                    self.raw,
                    f"{o.where}: tool observation {o.name or o.id} answers no open tool call of that name; kept",
                )
        if call is not None:
            self.used.add(id(call))
        output = o.data.get("output")
        content = result_text(output) if output is not None else (o.status if o.failed else None)
        part = Part("tool_result", name=o.name, content=content, is_error=True if o.failed else None, call_id=call_id)
        self.replay.tool_result(part, self.agent(o), o.where)

    def event(self, o: Observation) -> None:
        pieces = [_plain(o.data.get("input")), _plain(o.data.get("output")), o.status]
        if not any(pieces):
            return  # a name and nothing else
        text = "\n\n".join(p for p in [o.name, *pieces] if p)
        self.replay.add("event", [Part("text", text=text)], self.agent(o), o.where)

    def metadata(self, count: int) -> dict[str, Any]:
        data = self.raw.data
        meta: dict[str, Any] = {}
        for key, name in (
            ("id", "trace_id"),
            ("name", "name"),
            ("timestamp", "timestamp"),
            ("sessionId", "session_id"),
            ("userId", "user_id"),
            ("environment", "environment"),
            ("release", "release"),
            ("version", "version"),
            ("latency", "latency_s"),
            ("totalCost", "total_cost"),
            ("htmlPath", "html_path"),
        ):
            value = data.get(key)
            if value is not None and not isinstance(value, dict | list):
                meta[name] = value
        if isinstance(data.get("tags"), list) and data["tags"]:
            meta["tags"] = [t for t in data["tags"] if isinstance(t, str)]
        if isinstance(data.get("metadata"), dict) and data["metadata"]:
            meta["metadata"] = data["metadata"]
        meta["observations"] = count
        if len(self.models) > 1:
            meta["models"] = self.models
        scores = [
            {k: s[k] for k in ("name", "value", "stringValue", "dataType") if s.get(k) is not None}
            for s in (data["scores"] if isinstance(data.get("scores"), list) else [])
            if isinstance(s, dict) and s.get("name")
        ]
        if scores:
            meta["scores"] = scores
        return meta


# --- Messages ----------------------------------------------------------------------------------------------


def _generation_input(value: Any, where: str, ctx: ConvertContext) -> tuple[list[conv.Message], str | None, Any]:
    """A generation's input as messages, with the system prompt and the tools given beside them."""
    if value is None:
        return [], None, None
    if isinstance(value, str):
        return [conv.Message(0, "user", conv.text_parts(value))], None, None
    if isinstance(value, list):
        return [_message(m, f"{where}[{k}]", ctx) for k, m in enumerate(value)], None, None
    if not isinstance(value, dict):
        return [conv.Message(0, "user", [Part("text", text=json.dumps(value))])], None, None
    if "role" in value:
        return [_message(value, where, ctx)], None, None
    if isinstance(value.get("messages"), list):
        messages = [_message(m, f"{where}.messages[{k}]", ctx) for k, m in enumerate(value["messages"])]
        system = value.get("system")
        if isinstance(system, list):
            system = "\n\n".join(b.get("text", "") for b in system if isinstance(b, dict))
        tools = value.get("tools") or value.get("functions")
        return messages, system if isinstance(system, str) and system else None, tools or None
    task = conv.problem_from_record(value, None)
    return [conv.Message(0, "user", conv.text_parts(task or json.dumps(value, ensure_ascii=False)))], None, None


def _generation_output(value: Any, where: str, ctx: ConvertContext) -> list[conv.Message]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [conv.Message(0, "assistant", conv.text_parts(value))]
    if isinstance(value, dict):
        if isinstance(value.get("choices"), list):  # a whole OpenAI response
            return [
                _message(c["message"], f"{where}.choices[{k}].message", ctx, role="assistant")
                for k, c in enumerate(value["choices"])
                if isinstance(c, dict) and isinstance(c.get("message"), dict)
            ]
        if {"role", "content", "tool_calls", "function_call"} & value.keys():
            return [_message(value, where, ctx, role="assistant")]
        return [conv.Message(0, "assistant", [Part("text", text=json.dumps(value, ensure_ascii=False))])]
    if isinstance(value, list):
        if value and all(isinstance(m, dict) and "role" in m for m in value):
            return [_message(m, f"{where}[{k}]", ctx) for k, m in enumerate(value)]
        if value and all(isinstance(b, dict) and "type" in b for b in value):
            return [conv.Message(0, "assistant", _content(value, where, ctx))]
    return [conv.Message(0, "assistant", [Part("text", text=json.dumps(value, ensure_ascii=False))])]


def _message(raw: Any, where: str, ctx: ConvertContext, *, role: str | None = None) -> conv.Message:
    """One chat message. Only a generation's output may leave its role out (it is the model's)."""
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"a message is an object, got {type(raw).__name__}")
    if role is None or raw.get("role") is not None:
        role = conv.role_of(raw, where)
    role = ROLE_NAMES.get(role, role)
    name = conv.optional_text(raw, "name", where)
    parts: list[Part] = []
    for key in ("reasoning_content", "reasoning", "thinking"):
        thought = raw.get(key)
        if isinstance(thought, str) and thought.strip():
            parts.append(Part("thinking", text=thought))
    if role in TOOL_ROLES:
        call_id = next((raw[k] for k in CALL_ID_KEYS if isinstance(raw.get(k), str) and raw[k]), None)
        content = raw.get("content")
        text = _joined_text(content) if isinstance(content, list) else result_text(content)
        parts.append(Part("tool_result", name=name, content=text, call_id=call_id))
        return conv.Message(0, role, parts)
    parts.extend(_content(raw.get("content"), f"{where}.content", ctx))
    calls = raw.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise InvalidValue(f"{where}.tool_calls", f"expected a list, got {type(calls).__name__}")
        parts.extend(_tool_call(c, f"{where}.tool_calls[{k}]") for k, c in enumerate(calls))
    if isinstance(raw.get("function_call"), dict):
        parts.append(_tool_call({"function": raw["function_call"]}, f"{where}.function_call"))
    return conv.Message(0, role, parts, agent=name)


def _tool_call(raw: Any, where: str) -> Part:
    """OpenAI's ``{id, function: {name, arguments}}`` or LangChain's ``{id, name, args}``."""
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"a tool call is an object, got {type(raw).__name__}")
    function = raw.get("function") if isinstance(raw.get("function"), dict) else raw
    name = function.get("name")
    if not isinstance(name, str) or not name:
        at = f"{where}.function.name" if function is not raw else f"{where}.name"
        raise InvalidValue(at, "missing: a tool call names its tool")
    arguments = function.get("arguments", function.get("args", function.get("input")))
    call_id = raw.get("id")
    return Part(
        "tool_call",
        name=name,
        arguments=arguments_text(arguments),
        call_id=call_id if isinstance(call_id, str) and call_id else None,
    )


def _content(content: Any, where: str, ctx: ConvertContext) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return conv.text_parts(content)
    if not isinstance(content, list):
        return [Part("text", text=json.dumps(content, ensure_ascii=False))]
    parts: list[Part] = []
    for k, block in enumerate(content):
        parts.extend(_block(block, f"{where}[{k}]", ctx))
    return parts


def _block(block: Any, at: str, ctx: ConvertContext) -> list[Part]:
    if isinstance(block, str):
        return conv.text_parts(block)
    if not isinstance(block, dict):
        return [Part("text", text=json.dumps(block, ensure_ascii=False))]
    kind = block.get("type")
    if kind in ("text", "input_text", "output_text") and isinstance(block.get("text"), str):
        return conv.text_parts(block["text"])
    if kind == "refusal" and isinstance(block.get("refusal"), str):
        return conv.text_parts(block["refusal"])
    if kind in ("thinking", "reasoning"):
        return [Part("thinking", text=str(block.get("thinking") or block.get("text") or ""))]
    if kind == "redacted_thinking":
        return [Part("thinking", text="[redacted by the provider]")]
    if kind in ("tool_use", "server_tool_use"):
        name = block.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidValue(f"{at}.name", "missing: a tool_use block names its tool")
        call_id = block.get("id") if isinstance(block.get("id"), str) else None
        return [Part("tool_call", name=name, arguments=arguments_text(block.get("input")), call_id=call_id)]
    if kind == "tool_result":
        content = block.get("content")
        text = _joined_text(content) if isinstance(content, list) else result_text(content)
        is_error = block.get("is_error") if isinstance(block.get("is_error"), bool) else None
        call_id = block.get("tool_use_id") if isinstance(block.get("tool_use_id"), str) else None
        return [Part("tool_result", content=text, is_error=is_error, call_id=call_id)]
    if kind in ("image_url", "input_image", "image"):
        return [_image(block, at, ctx)]
    return [Part("text", text=json.dumps(block, ensure_ascii=False))]


def _image(block: dict[str, Any], at: str, ctx: ConvertContext) -> Part:
    url = block.get("image_url")
    url = url.get("url") if isinstance(url, dict) else url
    source = block.get("source")
    if url is None and isinstance(source, dict):
        if source.get("type") == "base64":
            url = f"data:{source.get('media_type') or 'image/png'};base64,{source.get('data') or ''}"
        else:
            url = source.get("url")
    if isinstance(url, str) and url.startswith(MEDIA_PREFIX):
        # Langfuse keeps media apart and leaves a reference in the trace: the image itself is not in the file.
        return Part("text", text=f"[image kept by Langfuse: {url}]")
    return Part("image", image=ctx.image(url, f"{at}.image_url" if "image_url" in block else f"{at}.source"))


def _joined_text(blocks: list[Any]) -> str:
    return "\n\n".join(
        b["text"] if isinstance(b, dict) and isinstance(b.get("text"), str) else json.dumps(b, ensure_ascii=False)
        for b in blocks
    )


def _plain(value: Any) -> str | None:
    if value is None or value == "" or value == {} or value == []:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _task(value: Any, where: str, ctx: ConvertContext) -> str | None:
    """The trace's own input as the task: its text, a task field, or its first user message."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list) or "role" in value:
            messages, _, _ = _generation_input(value, where, ctx)
        else:
            return conv.problem_from_record(value, None)
    elif isinstance(value, list):
        messages, _, _ = _generation_input(value, where, ctx)
    else:
        return None
    for m in messages:
        if m.role == "user" and conv.plain_text(m.parts).strip():
            return conv.plain_text(m.parts)
    return None
