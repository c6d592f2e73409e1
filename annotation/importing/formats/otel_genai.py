"""OpenTelemetry GenAI spans exported as OTLP/JSON: one export request (``resourceSpans``) per record.

A run is rebuilt from its spans in the order they started (ties: the one that ended first, then the span
id). The spans the GenAI semantic conventions define are read by ``gen_ai.operation.name``:

- ``chat`` (and ``text_completion``, ``generate_content``): a model call. Its ``gen_ai.output.messages`` are
  the model's step. Its ``gen_ai.input.messages`` repeat the history: the first call's give the system
  prompt and the user's task; a later call's give only what the history gained that no span recorded (a
  new user message, the result of a tool no ``execute_tool`` span ran). ``gen_ai.system_instructions`` is
  the system prompt, ``gen_ai.tool.definitions`` the tools offered.
- ``execute_tool``: a tool run, its ``gen_ai.tool.call.result`` a tool result for ``gen_ai.tool.call.id``;
  an error status (code 2) or an ``error.type`` marks it an error, its status message then its content.
- ``invoke_agent`` / ``invoke_workflow``: its ``gen_ai.agent.name`` is the agent of every step below it. One
  with output messages and no model call below it (a remote agent) is itself a model call.

Messages are JSON text or structured values (``arrayValue``/``kvlistValue``) of ``{role, parts}``, parts
``text``, ``reasoning``, ``tool_call``, ``tool_call_response``, the server-tool parts, ``blob``/``uri``
images; a part type the conventions leave open is kept as its JSON text. Older instrumentations are read
too: ``gen_ai.prompt``/``gen_ai.completion`` as JSON text, as OpenLLMetry's flattened
``gen_ai.prompt.0.role``..., or on span events.

Every span of one trace id is one trace; a record holding several traces gives one per trace id
(``OTelGenAI.convert_all``). Spans whose parent is not in the record are placed by their start time, with a
warning; so are steps whose tool result answers no call the model made.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotation.core.model import InvalidValue, Trace
from annotation.core.parts import Part, arguments_text, is_remote, set_steps
from annotation.importing.formats import conversation as conv
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord
from annotation.importing.formats.openai_messages import read_message
from annotation.importing.formats.reading import RawRecord

MODEL_OPS = ("chat", "text_completion", "generate_content")
TOOL_OPS = ("execute_tool",)
AGENT_OPS = ("invoke_agent", "invoke_workflow")
INPUT, OUTPUT, SYSTEM = "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"
OLD_INPUT, OLD_OUTPUT = "gen_ai.prompt", "gen_ai.completion"
# What a span may keep on its events instead of its attributes (content capture on events, older versions).
EVENT_KEYS = (INPUT, OUTPUT, SYSTEM, OLD_INPUT, OLD_OUTPUT)
STATUS_ERROR = (2, "2", "STATUS_CODE_ERROR", "ERROR")
_FLAT = re.compile(r"^gen_ai\.(prompt|completion)\.(\d+)\.(.+)$")


class OTelGenAI(Adapter):
    name = "otel-genai"
    title = "OpenTelemetry GenAI spans (OTLP/JSON)"
    description = (
        "one OTLP/JSON export request per record (resourceSpans): chat, execute_tool and invoke_agent spans of "
        "the GenAI semantic conventions, one trace per trace id"
    )
    file_fields = {"steps": "resourceSpans"}

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        return bool(sample) and all(isinstance(r.get("resourceSpans"), list) for r in sample)

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        records = self.convert_all(raw, ctx)
        if len(records) > 1:
            ids = ", ".join(str(r.trace.record_id) for r in records)
            raise InvalidValue(
                "resourceSpans",
                f"the export request holds {len(records)} traces (trace ids {ids}); this import reads one trace "
                "per record: write each trace's spans on a line of their own",
            )
        return records[0]

    def convert_all(self, raw: RawRecord, ctx: ConvertContext) -> list[ImportedRecord]:
        """One record per trace id in the export request, in the order the trace ids first appear."""
        spans = read_spans(raw.data)
        if not any(s.genai for s in spans):
            raise InvalidValue(
                "resourceSpans",
                f"none of the {len(spans)} spans carries GenAI attributes (gen_ai.operation.name, "
                "gen_ai.input.messages, ...): not a trace of the OpenTelemetry GenAI conventions",
            )
        traces: dict[str, list[Span]] = {}
        for span in spans:
            traces.setdefault(span.trace_id, []).append(span)
        out = []
        for trace_id, members in traces.items():
            if not any(s.genai for s in members):
                ctx.warn(raw, f"trace {trace_id}: none of its {len(members)} spans is a GenAI span; left out")
                continue
            out.append(_trace(raw, ctx, trace_id, members))
        return out


# --- Reading the OTLP/JSON structure -------------------------------------------------------------------------


@dataclass(slots=True)
class Span:
    where: str
    trace_id: str
    span_id: str
    parent: str | None
    name: str
    start: int
    end: int
    attrs: dict[str, Any]
    # Where each attribute sits in the file, for errors: resourceSpans[0].scopeSpans[1].spans[3].attributes[key].
    paths: dict[str, str]
    status_code: Any
    status_message: str | None
    events: list[dict[str, Any]]
    service: str | None

    @property
    def op(self) -> str | None:
        op = self.attrs.get("gen_ai.operation.name")
        return op if isinstance(op, str) else None

    @property
    def genai(self) -> bool:
        return any(k.startswith("gen_ai.") for k in self.attrs)

    @property
    def failed(self) -> bool:
        return self.status_code in STATUS_ERROR or self.attrs.get("error.type") is not None

    def order(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.span_id)

    def text(self, key: str) -> str | None:
        value = self.attrs.get(key)
        return value if isinstance(value, str) and value else None


def read_spans(data: dict[str, Any]) -> list[Span]:
    resources = data.get("resourceSpans")
    if not isinstance(resources, list):
        raise InvalidValue("resourceSpans", "missing: an OTLP/JSON export request holds a list of resourceSpans")
    spans = []
    for i, resource in enumerate(resources):
        at = f"resourceSpans[{i}]"
        if not isinstance(resource, dict):
            raise InvalidValue(at, f"expected an object, got {type(resource).__name__}")
        info = resource.get("resource") or {}
        resource_attrs, _ = _attributes(info.get("attributes") if isinstance(info, dict) else None, f"{at}.resource")
        service = resource_attrs.get("service.name")
        scopes_key = "scopeSpans" if "scopeSpans" in resource else "instrumentationLibrarySpans"
        scopes = resource.get(scopes_key) or []
        if not isinstance(scopes, list):
            raise InvalidValue(f"{at}.{scopes_key}", f"expected a list, got {type(scopes).__name__}")
        for j, scope in enumerate(scopes):
            where = f"{at}.{scopes_key}[{j}]"
            if not isinstance(scope, dict):
                raise InvalidValue(where, f"expected an object, got {type(scope).__name__}")
            items = scope.get("spans") or []
            if not isinstance(items, list):
                raise InvalidValue(f"{where}.spans", f"expected a list of spans, got {type(items).__name__}")
            for k, span in enumerate(items):
                spans.append(_span(span, f"{where}.spans[{k}]", service if isinstance(service, str) else None))
    return spans


def _span(raw: Any, where: str, service: str | None) -> Span:
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"a span is an object, got {type(raw).__name__}")
    trace_id, span_id = _id(raw, "traceId", where, required=True), _id(raw, "spanId", where, required=True)
    start = _nanos(raw.get("startTimeUnixNano"), f"{where}.startTimeUnixNano", required=True)
    end = _nanos(raw.get("endTimeUnixNano"), f"{where}.endTimeUnixNano", required=False)
    attrs, paths = _attributes(raw.get("attributes"), where)
    events = raw.get("events") or []
    if not isinstance(events, list):
        raise InvalidValue(f"{where}.events", f"expected a list of events, got {type(events).__name__}")
    for e, event in enumerate(events):
        if not isinstance(event, dict):
            continue
        found, at = _attributes(event.get("attributes"), f"{where}.events[{e}]")
        for key in EVENT_KEYS:
            if key in found and key not in attrs:
                attrs[key], paths[key] = found[key], at[key]
    status = raw.get("status") or {}
    status = status if isinstance(status, dict) else {}
    message = status.get("message")
    return Span(
        where=where,
        trace_id=trace_id,
        span_id=span_id,
        parent=_id(raw, "parentSpanId", where, required=False),
        name=raw.get("name") if isinstance(raw.get("name"), str) else "",
        start=start,
        end=start if end is None else end,
        attrs=attrs,
        paths=paths,
        status_code=status.get("code"),
        status_message=message if isinstance(message, str) and message else None,
        events=[e for e in events if isinstance(e, dict)],
        service=service,
    )


def _id(raw: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise InvalidValue(f"{where}.{key}", "missing: every span names its trace and itself")
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"{where}.{key}", f"expected a hex id as text, got {type(value).__name__}")
    return value


def _nanos(value: Any, where: str, *, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise InvalidValue(where, "missing: the steps are ordered by the time their spans started")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise InvalidValue(where, f"expected nanoseconds since the epoch (a string of digits), got {value!r}")


def _attributes(raw: Any, where: str) -> tuple[dict[str, Any], dict[str, str]]:
    if raw is None:
        return {}, {}
    if not isinstance(raw, list):
        raise InvalidValue(f"{where}.attributes", f"expected a list of {{key, value}}, got {type(raw).__name__}")
    values: dict[str, Any] = {}
    paths: dict[str, str] = {}
    for k, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise InvalidValue(f"{where}.attributes[{k}]", "an attribute is an object {key, value} with a text key")
        key = item["key"]
        values[key] = any_value(item.get("value"), f"{where}.attributes[{k}].value")
        paths[key] = f"{where}.attributes[{key}]"
    return values, paths


def any_value(raw: Any, where: str) -> Any:
    """An OTLP AnyValue as plain data: text, a number, true/false, a list or an object (None when empty)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"expected an AnyValue object such as {{'stringValue': ...}}, got {raw!r}")
    if "stringValue" in raw:
        return raw["stringValue"]
    if "boolValue" in raw:
        return raw["boolValue"]
    if "intValue" in raw:  # int64: JSON writes it as a string
        value = raw["intValue"]
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            return int(value)
        return value
    if "doubleValue" in raw:
        value = raw["doubleValue"]
        return float(value) if isinstance(value, str) and re.fullmatch(r"-?[\d.eE+-]+", value) else value
    if "bytesValue" in raw:
        return raw["bytesValue"]
    for kind in ("arrayValue", "kvlistValue"):
        if kind in raw:
            box = raw[kind] or {}
            items = box.get("values") if isinstance(box, dict) else None
            if not isinstance(items, list | None):
                raise InvalidValue(f"{where}.{kind}", "expected an object {values: [...]}")
            if kind == "arrayValue":
                return [any_value(v, f"{where}.arrayValue.values[{n}]") for n, v in enumerate(items or [])]
            nested, _ = _attributes(items or [], f"{where}.kvlistValue")
            return nested
    return None


# --- One trace ---------------------------------------------------------------------------------------------


def _trace(raw: RawRecord, ctx: ConvertContext, trace_id: str, spans: list[Span]) -> ImportedRecord:
    by_id: dict[str, Span] = {}
    for span in spans:
        if span.span_id in by_id:
            first = by_id[span.span_id].where
            raise InvalidValue(f"{span.where}.spanId", f"span {span.span_id} appears twice (first at {first})")
        by_id[span.span_id] = span
    ordered = sorted(spans, key=Span.order)
    for span in ordered:
        if span.parent and span.parent not in by_id:
            ctx.warn(
                raw,
                f"{span.where}: span {span.span_id} ({span.name or 'unnamed'}) names parent span {span.parent}, "
                "which is not in the record; placed by its start time",
            )
    ancestors = _Ancestors(by_id)
    models_below = {a for s in ordered if _kind(s) == "model" for a in ancestors.of(s)}

    def when(span: Span) -> tuple[int, int, str]:
        # A tool that runs model calls of its own (an agent used as a tool) answers when it ends, after them.
        if _kind(span) == "tool" and span.span_id in models_below:
            return (span.end, span.end, span.span_id)
        return span.order()

    replay = Replay()
    models: list[str] = []
    tools: Any = None
    for span in sorted(ordered, key=when):
        kind = _kind(span)
        if kind == "agent" and span.span_id not in models_below and (OUTPUT in span.attrs or OLD_OUTPUT in span.attrs):
            kind = "model"  # a remote agent: what it answered is its step
        agent = ancestors.agent(span)
        if kind == "model":
            model = span.text("gen_ai.response.model") or span.text("gen_ai.request.model")
            if model and model not in models:
                models.append(model)
            if tools is None and span.attrs.get("gen_ai.tool.definitions") is not None:
                tools = _structured(span, "gen_ai.tool.definitions", raw, ctx)
            _model_call(span, agent, replay, raw, ctx)
        elif kind == "tool":
            replay.tool_result(_tool_part(span), agent, span.where)
    if not replay.messages:
        raise InvalidValue(
            "resourceSpans",
            f"trace {trace_id}: no span holds captured messages (gen_ai.input.messages / gen_ai.output.messages) "
            "or tool results; turn on content capture (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)",
        )
    root = next((s for s in ordered if not s.parent or s.parent not in by_id), ordered[0])
    return rebuilt_record(
        raw,
        ctx,
        replay,
        where="resourceSpans",
        record_id=trace_id,
        generator=models[0] if models else None,
        metadata=_metadata(trace_id, ordered, root, ancestors, models),
        fallback_problem=lambda: _agent_task(ordered, raw, ctx),
        tools=tools,
    )


def _kind(span: Span) -> str | None:
    op = span.op
    if op in MODEL_OPS:
        return "model"
    if op in TOOL_OPS:
        return "tool"
    if op in AGENT_OPS:
        return "agent"
    if op is not None:
        return None  # embeddings, retrieval, memory, create_agent: no message of the run
    keys = span.attrs.keys()
    if {INPUT, OUTPUT, OLD_INPUT, OLD_OUTPUT} & keys or any(_FLAT.match(k) for k in keys):
        return "model"
    if "gen_ai.tool.name" in keys:
        return "tool"
    if "gen_ai.agent.name" in keys:
        return "agent"
    return None


class _Ancestors:
    def __init__(self, by_id: dict[str, Span]) -> None:
        self.by_id = by_id

    def of(self, span: Span) -> Iterator[str]:
        seen = {span.span_id}
        parent = span.parent
        while parent and parent in self.by_id and parent not in seen:
            seen.add(parent)
            yield parent
            parent = self.by_id[parent].parent

    def agent(self, span: Span) -> str | None:
        """The name of the nearest agent the span runs in (itself included)."""
        for sid in (span.span_id, *self.of(span)):
            s = self.by_id[sid]
            if s.op in AGENT_OPS or (s.op is None and _kind(s) == "agent"):
                name = s.text("gen_ai.agent.name")
                if name:
                    return name
        return None


def _model_call(span: Span, agent: str | None, replay: Replay, raw: RawRecord, ctx: ConvertContext) -> None:
    system = _system_text(span, raw, ctx)
    if system:
        replay.system(system, agent)
    inputs = _messages(span, INPUT, OLD_INPUT, "prompt", raw, ctx)
    replay.model_input(inputs or [], agent, span.where)
    outputs = _messages(span, OUTPUT, OLD_OUTPUT, "completion", raw, ctx)
    if not outputs:
        why = f"the call failed ({_error_text(span)})" if span.failed else "no output messages were captured"
        ctx.warn(raw, f"{span.where}: model call {span.name or span.span_id} gives no step: {why}")
        return
    if len(outputs) > 1:
        ctx.warn(raw, f"{span.where}: the model returned {len(outputs)} choices; each is a step of its own")
    replay.output(outputs, agent, span.where)


def _messages(
    span: Span, key: str, old_key: str, flat: str, raw: RawRecord, ctx: ConvertContext
) -> list[conv.Message] | None:
    """A span's input or output messages, from whichever attribute holds them; None when none does."""
    role = "user" if flat == "prompt" else "assistant"
    if span.attrs.get(key) is not None:
        value = _structured(span, key, raw, ctx)
        where = span.paths[key]
        if isinstance(value, str):  # not JSON: kept as the text it is
            return [conv.Message(0, role, conv.text_parts(value))]
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise InvalidValue(where, f"expected a list of messages, got {type(value).__name__}")
        return [_otel_message(m, f"{where}[{k}]", ctx) for k, m in enumerate(value)]
    if span.attrs.get(old_key) is not None:
        value = _structured(span, old_key, raw, ctx)
        where = span.paths[old_key]
        if isinstance(value, str):
            return [conv.Message(0, role, conv.text_parts(value))]
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise InvalidValue(where, f"expected a list of messages, got {type(value).__name__}")
        return [read_message(m, 0, f"{where}[{k}]", ctx) for k, m in enumerate(value)]
    flattened = _unflatten(span, flat)
    if flattened:
        return [read_message(m, 0, f"{span.where}.attributes[gen_ai.{flat}.{k}]", ctx) for k, m in flattened]
    return None


def _structured(span: Span, key: str, raw: RawRecord, ctx: ConvertContext) -> Any:
    """An attribute that holds JSON: decoded when it is JSON text; text that is not JSON (cut short by an
    attribute length limit, say) stays text, with a warning."""
    value = span.attrs.get(key)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        ctx.warn(raw, f"{span.paths[key]}: not valid JSON (cut short by a length limit?); kept as text")
        return value


def _unflatten(span: Span, which: str) -> list[tuple[int, dict[str, Any]]]:
    """OpenLLMetry's ``gen_ai.prompt.0.role``, ``gen_ai.completion.0.tool_calls.1.name``... as message objects."""
    found: dict[int, dict[str, Any]] = {}
    for key, value in span.attrs.items():
        m = _FLAT.match(key)
        if not m or m.group(1) != which:
            continue
        node = found.setdefault(int(m.group(2)), {})
        *path, last = m.group(3).split(".")
        for name in path:
            if not isinstance(node.get(name), dict):
                node[name] = {}
            node = node[name]
        node[last] = value
    return [(index, _listed(found[index])) for index in sorted(found)]


def _listed(node: Any) -> Any:
    """Objects keyed 0, 1, ... (a flattened list) back as lists, in index order."""
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listed(node[k]) for k in sorted(node, key=int)]
    return {k: _listed(v) for k, v in node.items()}


def _system_text(span: Span, raw: RawRecord, ctx: ConvertContext) -> str | None:
    if SYSTEM not in span.attrs:
        return None
    value = _structured(span, SYSTEM, raw, ctx)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise InvalidValue(span.paths[SYSTEM], f"expected a list of parts, got {type(value).__name__}")
    texts = []
    for part in value:
        if isinstance(part, dict) and isinstance(part.get("content"), str):
            texts.append(part["content"])
        elif isinstance(part, str):
            texts.append(part)
        else:
            texts.append(json.dumps(part, ensure_ascii=False))
    return "\n\n".join(t for t in texts if t) or None


def _otel_message(raw: Any, where: str, ctx: ConvertContext) -> conv.Message:
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"a message is an object, got {type(raw).__name__}")
    role = conv.role_of(raw, where)
    name = conv.optional_text(raw, "name", where)
    parts_raw = raw.get("parts")
    if parts_raw is None:  # some instrumentations write {role, content}
        content = raw.get("content")
        return conv.Message(0, role, conv.text_parts(content) if isinstance(content, str) else [], agent=name)
    if not isinstance(parts_raw, list):
        raise InvalidValue(f"{where}.parts", f"expected a list of parts, got {type(parts_raw).__name__}")
    parts: list[Part] = []
    for k, part in enumerate(parts_raw):
        parts.extend(_otel_part(part, f"{where}.parts[{k}]", ctx))
    return conv.Message(0, role, parts, agent=name)


def _otel_part(raw: Any, where: str, ctx: ConvertContext) -> list[Part]:
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"a part is an object, got {type(raw).__name__}")
    kind = raw.get("type")
    if kind == "text":
        content = raw.get("content")
        if not isinstance(content, str):
            raise InvalidValue(f"{where}.content", "missing: a text part holds its text in content")
        return conv.text_parts(content)
    if kind == "reasoning":
        return [Part("thinking", text=str(raw.get("content") or ""))]
    if kind in ("tool_call", "server_tool_call"):
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidValue(f"{where}.name", "missing: a tool call names its tool")
        arguments = raw.get("arguments") if kind == "tool_call" else raw.get("server_tool_call")
        return [Part("tool_call", name=name, arguments=arguments_text(arguments), call_id=_call_id(raw, where))]
    if kind in ("tool_call_response", "server_tool_call_response"):
        response = raw.get("server_tool_call_response") if kind != "tool_call_response" else raw.get("response")
        if response is None and kind == "tool_call_response":
            response = raw.get("result")  # as some examples of the conventions spell it
        return [Part("tool_result", content=result_text(response), call_id=_call_id(raw, where))]
    if kind == "blob" and _is_image(raw):
        uri = f"data:{raw.get('mime_type') or 'image/png'};base64,{raw.get('content') or ''}"
        return [Part("image", image=ctx.image(uri, f"{where}.content"))]
    if kind == "uri" and _is_image(raw) and isinstance(raw.get("uri"), str) and is_remote(raw["uri"]):
        return [Part("image", image=ctx.image(raw["uri"], f"{where}.uri"))]
    if kind in ("blob", "uri", "file"):
        what = raw.get("modality") or raw.get("mime_type") or "file"
        ref = raw.get("uri") or raw.get("file_id") or "inline data, not kept"
        return [Part("text", text=f"[{what}: {ref}]")]
    # The conventions let instrumentations add part types of their own: kept as the JSON they are.
    return [Part("text", text=json.dumps(raw, ensure_ascii=False))]


def _is_image(raw: dict[str, Any]) -> bool:
    mime = raw.get("mime_type")
    return raw.get("modality") == "image" or (isinstance(mime, str) and mime.startswith("image/"))


def _call_id(raw: dict[str, Any], where: str) -> str | None:
    value = raw.get("id")
    if value is None or isinstance(value, str):
        return value or None
    raise InvalidValue(f"{where}.id", f"expected text, got {type(value).__name__}")


def result_text(value: Any) -> str | None:
    """A tool's result as text: text as it is, anything else as its JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _tool_part(span: Span) -> Part:
    name = span.text("gen_ai.tool.name") or (span.name.removeprefix("execute_tool ").strip() or None)
    call_id = span.attrs.get("gen_ai.tool.call.id")
    content = result_text(span.attrs.get("gen_ai.tool.call.result"))
    if content is None and span.failed:
        content = _error_text(span)
    return Part(
        "tool_result",
        name=name,
        content=content,
        is_error=True if span.failed else None,
        call_id=str(call_id) if call_id not in (None, "") else None,
    )


def _error_text(span: Span) -> str:
    for event in span.events:
        if event.get("name") == "exception":
            found, _ = _attributes(event.get("attributes"), span.where)
            if isinstance(found.get("exception.message"), str):
                kind = found.get("exception.type")
                return f"{kind}: {found['exception.message']}" if isinstance(kind, str) else found["exception.message"]
    return span.status_message or str(span.attrs.get("error.type") or "error")


def _agent_task(ordered: list[Span], raw: RawRecord, ctx: ConvertContext) -> str | None:
    """The task an agent span was given, when no model call's input states it."""
    for span in ordered:
        if span.op in AGENT_OPS and INPUT in span.attrs:
            for m in _messages(span, INPUT, OLD_INPUT, "prompt", raw, ctx) or []:
                if m.role == "user" and conv.plain_text(m.parts).strip():
                    return conv.plain_text(m.parts)
    return None


def _metadata(
    trace_id: str, ordered: list[Span], root: Span, ancestors: _Ancestors, models: list[str]
) -> dict[str, Any]:
    meta: dict[str, Any] = {"trace_id": trace_id, "root_span": root.name or root.span_id, "spans": len(ordered)}
    services = sorted({s.service for s in ordered if s.service})
    if services:
        meta["service"] = services[0] if len(services) == 1 else services
    agent = ancestors.agent(root)
    if agent:
        meta["agent"] = agent
    conversation = next((s.text("gen_ai.conversation.id") for s in ordered if s.text("gen_ai.conversation.id")), None)
    if conversation:
        meta["conversation_id"] = conversation
    if len(models) > 1:
        meta["models"] = models
    meta["duration_ms"] = round((max(s.end for s in ordered) - min(s.start for s in ordered)) / 1e6, 3)
    for key in ("input_tokens", "output_tokens"):
        counts = [
            s.attrs[f"gen_ai.usage.{key}"]
            for s in ordered
            if _kind(s) == "model" and isinstance(s.attrs.get(f"gen_ai.usage.{key}"), int)
        ]
        if counts:
            meta[key] = sum(counts)
    return meta


# --- Rebuilding the conversation (shared with the Langfuse adapter) ------------------------------------------


def _key(parts: list[Part]) -> str:
    return json.dumps([p.as_dict() for p in parts], sort_keys=True, ensure_ascii=False)


@dataclass(slots=True)
class Replay:
    """The conversation a run's model calls and tool runs make, in the order they happened.

    The first model call's input is the conversation's start (system prompt, task, any earlier history). A
    later call's input repeats the history, so only what no output or tool run already gave is added: a user
    message not seen yet (counted, so the same words said twice are kept twice), a tool result for a call
    nothing answered yet (placed right after the turn that made the call). Each message remembers the place
    in the file it came from (``sources``).
    """

    messages: list[conv.Message] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)
    other_systems: list[str] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)
    calls: dict[str, str | None] = field(default_factory=dict)
    started: bool = False
    _users: Counter = field(default_factory=Counter)
    _results: Counter = field(default_factory=Counter)
    _systems: set[str] = field(default_factory=set)
    _system_agents: set[str | None] = field(default_factory=set)

    def add(self, role: str, parts: list[Part], agent: str | None, source: str, at: int | None = None) -> None:
        for p in parts:
            if p.type == "tool_call" and p.call_id:
                self.calls.setdefault(p.call_id, p.name)
            elif p.type == "tool_result":
                if p.call_id and not p.name:
                    p.name = self.calls.get(p.call_id)
                if p.call_id:
                    self.answered.add(p.call_id)
                else:
                    self._results[_key([p])] += 1
        at = len(self.messages) if at is None else at
        self.messages.insert(at, conv.Message(at, role, parts, agent))
        self.sources.insert(at, source)
        for k in range(at + 1, len(self.messages)):
            self.messages[k].index = k

    def _after_call(self, parts: list[Part]) -> int | None:
        """Where results answering an earlier call go: after the message that made it and the results that
        follow that message, so they join its turn whatever came between."""
        ids = {p.call_id for p in parts if p.call_id}
        for i in range(len(self.messages) - 1, -1, -1):
            if any(p.type == "tool_call" and p.call_id in ids for p in self.messages[i].parts):
                k = i + 1
                while k < len(self.messages) and all(p.type == "tool_result" for p in self.messages[k].parts):
                    k += 1
                return k
        return None

    def system(self, text: str, agent: str | None) -> None:
        """A system prompt: the first call's is the trace's; another agent's first one is kept too, under its
        name (one per agent, so a prompt that changes on every call is not repeated)."""
        if not text or text in self._systems:
            return
        self._systems.add(text)
        if not self.started:
            self.instructions.append(text)
        elif agent not in self._system_agents:
            self.other_systems.append(f"[{agent}]\n{text}" if agent else text)
        self._system_agents.add(agent)

    def model_input(self, inputs: list[conv.Message], agent: str | None, source: str) -> None:
        if not self.started:
            self.started = True
            for m in inputs:
                if m.role in conv.SYSTEM_ROLES:
                    self._systems.add(conv.plain_text(m.parts))
                    self._system_agents.add(agent)
                if m.role == "user":
                    self._users[_key([p for p in m.parts if p.type != "tool_result"])] += 1
                self.add(m.role, list(m.parts), m.agent, source)
            return
        users: Counter = Counter()
        results: Counter = Counter()
        for m in inputs:
            if m.role in conv.SYSTEM_ROLES:
                self.system(conv.plain_text(m.parts), agent)
                continue
            made = [p for p in m.parts if p.type == "tool_call" and p.call_id]
            if m.role in conv.MODEL_ROLES and made and not any(p.call_id in self.calls for p in made):
                # A turn no span recorded as output (its model call was not captured) but this history repeats:
                # kept, so its calls and their arguments are not lost.
                self.add(m.role, list(m.parts), m.agent or agent, source)
                continue
            new_results = []
            for p in m.parts:
                if p.type != "tool_result":
                    continue
                if p.call_id:
                    if p.call_id not in self.answered:
                        new_results.append(p)
                    continue
                results[_key([p])] += 1
                if results[_key([p])] > self._results[_key([p])]:
                    new_results.append(p)
            if new_results:
                self.add(m.role, new_results, None, source, at=self._after_call(new_results))
            rest = [p for p in m.parts if p.type != "tool_result"]
            if m.role == "user" and rest:
                users[_key(rest)] += 1
                if users[_key(rest)] > self._users[_key(rest)]:
                    self._users[_key(rest)] += 1
                    self.add(m.role, rest, m.agent, source)

    def output(self, outputs: list[conv.Message], agent: str | None, source: str) -> None:
        for m in outputs:
            self.add(m.role, list(m.parts), agent or m.agent, source)

    def tool_result(self, part: Part, agent: str | None, source: str, role: str = "tool") -> None:
        self.add(role, [part], agent, source)

    def check_calls(self, warn: Callable[[str], None]) -> set[str]:
        """Warn about each tool result that answers a call no message makes, naming where it came from."""
        warned = set()
        for m, source in zip(self.messages, self.sources, strict=True):
            for p in m.parts:
                if p.type == "tool_result" and p.call_id and p.call_id not in self.calls:
                    warned.add(p.call_id)
                    warn(f"{source}: the tool result answers call {p.call_id!r}, which no model output makes; kept")
        return warned


def rebuilt_record(
    raw: RawRecord,
    ctx: ConvertContext,
    replay: Replay,
    *,
    where: str,
    record_id: str | None,
    generator: str | None,
    metadata: dict[str, Any],
    fallback_problem: Callable[[], str | None],
    tools: Any = None,
) -> ImportedRecord:
    """A trace from a rebuilt conversation, its steps grouped as the importer chose."""
    warned = replay.check_calls(lambda m: ctx.warn(raw, m))

    def warn(message: str) -> None:
        if not any(repr(call) in message for call in warned):  # said already, with the place in the file
            ctx.warn(raw, message)

    grouped = conv.group(replay.messages, conv.check_steps_per(ctx.options.steps_per), where=where, warn=warn)
    problem = grouped.problem or fallback_problem()
    if not problem:
        raise InvalidValue(where, "no user message states the task (no model call's input holds one)")
    trace = Trace(
        problem=problem,
        steps=[],
        generator=generator,
        record_id=record_id,
        source_file=ctx.file,
        metadata=metadata,
        images=grouped.problem_images,
    )
    set_steps(trace, grouped.steps)
    context: dict[str, Any] = {}
    systems = [*replay.instructions, grouped.system, *replay.other_systems]
    if any(systems):
        context["system"] = "\n\n".join(s for s in systems if s)
    if tools:
        context["tools"] = tools
    trace.context = context
    return ImportedRecord(trace, [], raw.number, raw.line)
