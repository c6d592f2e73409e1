"""A trace as chat messages, for exports a chat template renders: an agent's trajectory as it happened.

A text trace keeps its one user turn (the critic prompt of critique_text). A trace of parts becomes the
conversation itself: the system prompt, the task, then each step as its messages, an assistant's tool calls
as ``tool_calls`` (``{id, type: "function", function: {name, arguments}}``, arguments as the JSON text they
were) and each result as a ``role: tool`` message, so chat templates with tool support render them as the
model saw them. Thinking goes in ``<think>`` before the text, as reasoning models write it; an image is named
in the text (``[image: images/NAME]``), its file listed in the record's ``images`` column.
The critic's request comes last, naming which messages make up each indexed step.
"""

from __future__ import annotations

from typing import Any

from annotation.core.model import Trace
from annotation.core.parts import Step, image_path, image_refs, is_remote, steps_of
from annotation.exporting.formats.critique_text import INSTRUCTION, critique_prompt


def _step_messages(step: Step) -> list[dict[str, Any]]:
    """The step's messages in the order its parts came: what the speaker said and called, then the results that
    answered, then (a merged step) the next round."""
    out: list[dict[str, Any]] = []
    texts: list[str] = []
    calls: list[dict[str, Any]] = []

    def said() -> None:
        if texts or calls:
            message: dict[str, Any] = {"role": step.role or "assistant", "content": "\n\n".join(texts)}
            if calls:
                message["tool_calls"] = list(calls)
            if step.agent:
                message["name"] = step.agent
            out.append(message)
        texts.clear()
        calls.clear()

    for part in step.parts:
        if part.type == "text":
            texts.append(part.text or "")
        elif part.type == "thinking":
            texts.append(f"<think>\n{part.text or ''}\n</think>")
        elif part.type == "image":
            texts.append(f"[image: {image_path(part.image or '')}]")
        elif part.type == "tool_call":
            calls.append(
                {
                    "id": part.call_id,
                    "type": "function",
                    "function": {"name": part.name or "", "arguments": part.arguments or ""},
                }
            )
        else:
            said()
            # Chat templates have no field for a failed call: the content says so.
            content = f"[error] {part.content or ''}" if part.is_error else part.content or ""
            result: dict[str, Any] = {"role": "tool", "content": content}
            if part.call_id:
                result["tool_call_id"] = part.call_id
            if part.name:
                result["name"] = part.name
            out.append(result)
    said()
    if not out:
        out.append({"role": step.role or "assistant", "content": ""})
    return out


def trajectory_messages(trace: Trace) -> list[dict[str, Any]]:
    """The system prompt (when there was one), the task, and every step's messages in order."""
    out: list[dict[str, Any]] = []
    if trace.context.get("system"):
        out.append({"role": "system", "content": str(trace.context["system"])})
    problem = trace.problem + "".join(f"\n\n[image: {image_path(ref)}]" for ref in trace.images)
    out.append({"role": "user", "content": problem})
    for step in steps_of(trace):
        out.extend(_step_messages(step))
    return out


def _step_names(trace: Trace) -> str:
    names = []
    for i, step in enumerate(steps_of(trace)):
        who = step.role or "assistant"
        has_results = any(p.type == "tool_result" for p in step.parts)
        names.append(f"paragraph {i}: the {who} message {i + 1}" + (" with its tool results" if has_results else ""))
    return "; ".join(names)


def critique_request(trace: Trace) -> str:
    return (
        "The conversation above is a model's work on the task. Each message after the task (with the tool results "
        f"that answer it) is one paragraph, indexed from 0: {_step_names(trace)}.\n\n{INSTRUCTION}"
    )


def critique_messages(trace: Trace, style: str = "redline") -> list[dict[str, Any]]:
    """The critic's input as chat turns: one user turn for a text trace (in the prompt ``style`` of critique_text),
    the conversation for one of parts."""
    if trace.step_parts is None:
        return [{"role": "user", "content": critique_prompt(trace, style)}]
    return [*trajectory_messages(trace), {"role": "user", "content": critique_request(trace)}]


def image_files(trace: Trace) -> list[str]:
    """The trace's stored images as paths beside the export (what vision trainers load), in order."""
    return [image_path(ref) for ref in dict.fromkeys(image_refs(trace)) if not is_remote(ref)]


def message_type(with_tools: bool = False):
    """Chat messages as Arrow: role and content, and with tools the fields tool calls and results need."""
    import pyarrow as pa

    fields = [("role", pa.string()), ("content", pa.string())]
    if with_tools:
        call = pa.struct(
            [
                ("id", pa.string()),
                ("type", pa.string()),
                ("function", pa.struct([("name", pa.string()), ("arguments", pa.string())])),
            ]
        )
        fields += [("tool_calls", pa.list_(call)), ("tool_call_id", pa.string()), ("name", pa.string())]
    return pa.list_(pa.struct(fields))
