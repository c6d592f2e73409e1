"""OTLP/JSON export requests of OpenTelemetry GenAI spans, written from the conventions' public description.

OTLP/JSON: ``resourceSpans[].scopeSpans[].spans[]`` with hex ``traceId``/``spanId``/``parentSpanId``, times as
strings of nanoseconds, attributes as ``{key, value: {stringValue | intValue (a string) | arrayValue ...}}``,
``status.code`` 2 for an error. GenAI: ``gen_ai.operation.name`` ``invoke_agent`` / ``chat`` / ``execute_tool``;
messages as ``{role, parts: [{type: text | reasoning | tool_call | tool_call_response, ...}]}``, as JSON text or
(as the conventions now prefer) structured values.
"""

from __future__ import annotations

import json
from typing import Any

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
T0 = 1_760_000_000_000_000_000  # nanoseconds
SYSTEM = "You are a support agent. Use the tools."
TASK = "Where is my order #A17? It was due yesterday."
FINAL = "Your order A17 has shipped; tracking is unavailable right now."
BAD_ARGUMENTS = '{"order_id": "A17"'  # cut short by the model: not valid JSON
TOOLS = [
    {"type": "function", "name": "get_order", "parameters": {"type": "object"}},
    {"type": "function", "name": "get_shipping", "parameters": {"type": "object"}},
]


def any_value(value: Any) -> dict[str, Any]:
    """A Python value as an OTLP AnyValue."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {"kvlistValue": {"values": [{"key": k, "value": any_value(v)} for k, v in value.items()]}}


def attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": any_value(v)} for k, v in values.items()]


def span(
    span_id: str,
    parent: str | None,
    name: str,
    start_ms: int,
    end_ms: int,
    attrs: dict[str, Any],
    *,
    trace: str = TRACE,
    error: str | None = None,
    kind: int = 1,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": trace,
        "spanId": span_id,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(T0 + start_ms * 1_000_000),
        "endTimeUnixNano": str(T0 + end_ms * 1_000_000),
        "attributes": attributes(attrs),
        "status": {"code": 2, "message": error} if error else {},
    }
    if parent:
        out["parentSpanId"] = parent
    return out


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def user(content: str = TASK) -> dict[str, Any]:
    return {"role": "user", "parts": [text(content)]}


FIRST_OUTPUT = {
    "role": "assistant",
    "parts": [
        {"type": "reasoning", "content": "I should look the order up first."},
        {"type": "tool_call", "id": "call_1", "name": "get_order", "arguments": {"order_id": "A17"}},
        {"type": "tool_call", "id": "call_2", "name": "get_shipping", "arguments": BAD_ARGUMENTS},
    ],
    "finish_reason": "tool_call",
}


def chat(span_id: str, start_ms: int, end_ms: int, inputs: list, outputs: list | None, **extra: Any) -> dict:
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.usage.input_tokens": 800,
        "gen_ai.usage.output_tokens": 60,
        "gen_ai.input.messages": json.dumps(inputs),
    }
    if outputs is not None:
        attrs["gen_ai.output.messages"] = json.dumps(outputs)
    attrs.update(extra)
    return span(span_id, "a0000000000000a1", "chat gpt-4o", start_ms, end_ms, attrs, kind=3)


def spans_by_name(record: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each span's name (the chats numbered) -> (its place in the file, the span)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for i, resource in enumerate(record["resourceSpans"]):
        for j, scope in enumerate(resource["scopeSpans"]):
            for k, s in enumerate(scope["spans"]):
                name = s["name"]
                if name in out:
                    name = f"{name} #2"
                out[name] = (f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]", s)
    return out


def otel_record() -> dict[str, Any]:
    """A support agent that calls two tools (one times out) and answers, as two instrumentations export it:
    the agent framework's scope (agent and tool spans) and the OpenAI client's (chat spans and the HTTP span
    below one). The spans are out of order in the file; their start times give the order. The second chat's
    output is a structured value, the first's JSON text."""
    root = span(
        "a0000000000000a1",
        None,
        "invoke_agent support-agent",
        0,
        5000,
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": "openai",
            "gen_ai.agent.name": "support-agent",
            "gen_ai.agent.id": "asst_5j66",
            "gen_ai.conversation.id": "conv_17",
        },
    )
    first = chat(
        "c0000000000000c1",
        100,
        1500,
        [user()],
        [FIRST_OUTPUT],
        **{"gen_ai.system_instructions": json.dumps([text(SYSTEM)]), "gen_ai.tool.definitions": json.dumps(TOOLS)},
    )
    http = span(
        "d0000000000000d1",
        "c0000000000000c1",
        "POST",
        120,
        1480,
        {"http.request.method": "POST", "url.full": "https://api.openai.com/v1/chat/completions"},
        kind=3,
    )
    order = span(
        "e0000000000000e1",
        "a0000000000000a1",
        "execute_tool get_order",
        1600,
        1900,
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_order",
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": json.dumps({"order_id": "A17"}),
            "gen_ai.tool.call.result": json.dumps({"status": "shipped"}),
        },
    )
    # Starts with get_order and ends later: the tie on start time goes to the one that ended first.
    shipping = span(
        "e0000000000000e2",
        "a0000000000000a1",
        "execute_tool get_shipping",
        1600,
        2400,
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_shipping",
            "gen_ai.tool.call.id": "call_2",
            "gen_ai.tool.call.arguments": BAD_ARGUMENTS,
            "error.type": "TimeoutError",
        },
        error="carrier API timed out",
    )
    history = [
        user(),
        FIRST_OUTPUT,
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": {"status": "shipped"}}]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_2", "response": "carrier API timed out"}],
        },
    ]
    second = chat("c0000000000000c2", 2500, 4800, history, None)
    second["attributes"].append(
        {
            "key": "gen_ai.output.messages",
            "value": any_value([{"role": "assistant", "parts": [text(FINAL)], "finish_reason": "stop"}]),
        }
    )
    second["attributes"].append({"key": "gen_ai.system_instructions", "value": any_value([text(SYSTEM)])})
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": attributes({"service.name": "support-bot", "telemetry.sdk.language": "python"})
                },
                "scopeSpans": [
                    {"scope": {"name": "opentelemetry.instrumentation.openai_v2"}, "spans": [second, http, first]},
                    {"scope": {"name": "agent-framework", "version": "1.4.0"}, "spans": [shipping, root, order]},
                ],
            }
        ]
    }


def openllmetry_record() -> dict[str, Any]:
    """An older instrumentation: no operation name, prompt and completion flattened into attributes."""
    attrs = {
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-3.5-turbo",
        "gen_ai.prompt.0.role": "system",
        "gen_ai.prompt.0.content": "Answer briefly.",
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": "What is 2 + 2?",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "",
        "gen_ai.completion.0.tool_calls.0.id": "call_9",
        "gen_ai.completion.0.tool_calls.0.name": "calculator",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"expression": "2 + 2"}',
    }
    answer = {
        "llm.request.type": "chat",
        "gen_ai.request.model": "gpt-3.5-turbo",
        "gen_ai.prompt.0.role": "system",
        "gen_ai.prompt.0.content": "Answer briefly.",
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": "What is 2 + 2?",
        "gen_ai.prompt.2.role": "tool",
        "gen_ai.prompt.2.tool_call_id": "call_9",
        "gen_ai.prompt.2.content": "4",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "4.",
    }
    trace = "0af7651916cd43dd8448eb211c80319c"
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes({"service.name": "calc"})},
                "scopeSpans": [
                    {
                        "scope": {"name": "opentelemetry.instrumentation.openai"},
                        "spans": [
                            span("b7ad6b7169203331", None, "openai.chat", 0, 900, attrs, trace=trace),
                            span("b7ad6b7169203332", None, "openai.chat", 1000, 1800, answer, trace=trace),
                        ],
                    }
                ],
            }
        ]
    }


def sub_agent_record() -> dict[str, Any]:
    """A planner agent that hands a question to a researcher agent through a tool (an agent used as a tool):
    the tool's span holds the researcher's agent and chat spans, and answers when it ends."""
    planner, tool, researcher = "a0000000000000a1", "e0000000000000e9", "a0000000000000a2"

    def call(span_id: str, parent: str, start: int, end: int, system: str, inputs: list, outputs: list) -> dict:
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.system_instructions": json.dumps([text(system)]),
            "gen_ai.input.messages": json.dumps(inputs),
            "gen_ai.output.messages": json.dumps(outputs),
        }
        return span(span_id, parent, "chat gpt-4o-mini", start, end, attrs)

    ask = {"type": "tool_call", "id": "call_r", "name": "ask_researcher", "arguments": {"question": "2024 numbers"}}
    report = user("Summarise the 2024 report.")
    spans = [
        span(
            planner,
            None,
            "invoke_agent planner",
            0,
            8000,
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
        ),
        call("c0000000000000c1", planner, 100, 900, "You plan.", [report], [{"role": "assistant", "parts": [ask]}]),
        span(
            tool,
            planner,
            "execute_tool ask_researcher",
            1000,
            6000,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "ask_researcher",
                "gen_ai.tool.call.id": "call_r",
                "gen_ai.tool.call.result": "Revenue rose 12%.",
            },
        ),
        span(
            researcher,
            tool,
            "invoke_agent researcher",
            1100,
            5900,
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"},
        ),
        call(
            "c0000000000000c3",
            researcher,
            1200,
            3000,
            "You research.",
            [user("2024 numbers")],
            [{"role": "assistant", "parts": [text("Revenue rose 12%.")]}],
        ),
        call(
            "c0000000000000c2",
            planner,
            6100,
            7000,
            "You plan.",
            [
                report,
                {"role": "assistant", "parts": [ask]},
                {
                    "role": "tool",
                    "parts": [{"type": "tool_call_response", "id": "call_r", "response": "Revenue rose 12%."}],
                },
            ],
            [{"role": "assistant", "parts": [text("The 2024 report: revenue rose 12%.")]}],
        ),
    ]
    return {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "agents"}, "spans": spans[::-1]}]}]}
