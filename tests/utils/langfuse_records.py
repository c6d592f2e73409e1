"""Langfuse traces as the public API returns them (``GET /api/public/traces/{id}``), from its public description.

The trace: ``id``, ``name``, ``timestamp``, ``input``, ``output``, ``sessionId``, ``userId``, ``tags``,
``metadata``, ``latency`` (seconds), ``totalCost``, ``htmlPath``, ``scores`` and ``observations``. An
observation: ``id``, ``traceId``, ``type`` (SPAN, GENERATION, EVENT, AGENT, TOOL, ...), ``name``, ISO 8601
``startTime``/``endTime``, ``parentObservationId``, ``input``, ``output``, ``level``, ``statusMessage``;
a generation also ``model`` and usage. Generations logged by the OpenAI integration: the chat messages as
input, the response message as output.
"""

from __future__ import annotations

from typing import Any

TRACE = "7d1e2b6c-4a5f-4c1e-9d39-2b8f0a6c1e17"
SYSTEM = "You are a support agent. Use the tools."
TASK = "Where is my order #A17? It was due yesterday."
FINAL = "Your order A17 has shipped; tracking is unavailable right now."
BAD_ARGUMENTS = '{"order_id": "A17"'  # cut short by the model: not valid JSON

CALLS = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_order", "arguments": '{"order_id": "A17"}'}},
        {"id": "call_2", "type": "function", "function": {"name": "get_shipping", "arguments": BAD_ARGUMENTS}},
    ],
}
HISTORY = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": TASK},
    CALLS,
    {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'},
    {"role": "tool", "tool_call_id": "call_2", "content": "carrier API timed out"},
]


def at(seconds: float) -> str:
    whole, fraction = divmod(round(seconds * 1000), 1000)
    return f"2025-10-09T08:{whole // 60:02d}:{whole % 60:02d}.{fraction:03d}Z"


def observation(
    oid: str, kind: str, name: str, start: float, end: float, parent: str | None = "obs-agent", **fields: Any
) -> dict[str, Any]:
    return {
        "id": oid,
        "traceId": TRACE,
        "type": kind,
        "name": name,
        "startTime": at(start),
        "endTime": at(end),
        "parentObservationId": parent,
        "level": "DEFAULT",
        "statusMessage": None,
        "input": None,
        "output": None,
        "metadata": {},
        **fields,
    }


def generation(oid: str, start: float, end: float, messages: list, output: Any) -> dict[str, Any]:
    return observation(
        oid,
        "GENERATION",
        "OpenAI-generation",
        start,
        end,
        model="gpt-4o-2024-08-06",
        modelParameters={"temperature": 0},
        input=messages,
        output=output,
        usage={"input": 800, "output": 60, "total": 860, "unit": "TOKENS"},
    )


def by_id(record: dict[str, Any]) -> dict[str, tuple[int, dict[str, Any]]]:
    return {o["id"]: (k, o) for k, o in enumerate(record["observations"])}


def langfuse_record() -> dict[str, Any]:
    """A support agent that calls two tools (one times out), passes a guardrail check and answers. The
    observations are out of order in the list; their start times give the order."""
    agent = observation("obs-agent", "AGENT", "support-agent", 0, 5, parent=None, input={"question": TASK})
    first = generation("obs-gen-1", 0.1, 1.5, HISTORY[:2], CALLS)
    order = observation(
        "obs-tool-1", "TOOL", "get_order", 1.6, 1.9, input={"order_id": "A17"}, output={"status": "shipped"}
    )
    # Starts with get_order and ends later: the tie on start time goes to the one that ended first.
    shipping = observation(
        "obs-tool-2",
        "TOOL",
        "get_shipping",
        1.6,
        2.4,
        input=BAD_ARGUMENTS,
        level="ERROR",
        statusMessage="carrier API timed out",
    )
    guard = observation(
        "obs-event", "EVENT", "guardrail.pii_check", 2.45, 2.45, input={"checked": "reply"}, output={"passed": True}
    )
    marker = observation("obs-marker", "EVENT", "checkpoint", 2.46, 2.46)
    formatting = observation("obs-span", "SPAN", "format_answer", 4.8, 4.9, input={"text": FINAL}, output=FINAL)
    second = generation("obs-gen-2", 2.5, 4.7, HISTORY, {"role": "assistant", "content": FINAL})
    return {
        "id": TRACE,
        "name": "support-run",
        "timestamp": at(0),
        "input": {"question": TASK},
        "output": {"answer": FINAL},
        "sessionId": "session-9",
        "userId": "user-3",
        "release": "v1.4.0",
        "version": None,
        "environment": "production",
        "tags": ["support"],
        "public": False,
        "metadata": {"channel": "chat"},
        "latency": 5.0,
        "totalCost": 0.0123,
        "htmlPath": f"/project/clp1/traces/{TRACE}",
        "scores": [
            {"id": "score-1", "traceId": TRACE, "name": "resolved", "value": 0, "dataType": "BOOLEAN", "source": "API"}
        ],
        "observations": [second, shipping, formatting, agent, guard, order, marker, first],
    }
