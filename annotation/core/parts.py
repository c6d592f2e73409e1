"""What a step is made of: an ordered list of parts, with the role (and agent) of the message it came from.

A math chain of thought has steps of one text part. An agent's step holds its text, its thinking, its tool
calls and the results that answer them; a visual problem's step may hold an image. Every step also has a
plain text (``Step.text``): what metrics, text exports and text-only critics read, and what a trace whose
steps are all single text parts stores and shows exactly as before.

A tool call's ``arguments`` are kept as the JSON text the log gave (or ``json.dumps`` of an object), never
re-encoded, so arguments that are not valid JSON survive as they were. An image is named by ``image``: a
stored image's name (its SHA-256 and extension, see annotation/importing/images.py), or a remote URL that
is shown as a link and never fetched.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from annotation.core.model import InvalidValue

PART_TYPES = ("text", "thinking", "tool_call", "tool_result", "image")
# The fields each part type may carry beyond its type; anything else in a stored part is refused.
PART_FIELDS = {
    "text": ("text",),
    "thinking": ("text",),
    "tool_call": ("name", "arguments", "call_id"),
    "tool_result": ("name", "content", "is_error", "call_id"),
    "image": ("image",),
}
# Roles whose steps read as the model's own words: their plain text carries no role prefix.
MODEL_ROLES = ("assistant", "model", "ai", None)


@dataclass(slots=True)
class Part:
    type: str
    text: str | None = None
    name: str | None = None
    arguments: str | None = None
    call_id: str | None = None
    content: str | None = None
    is_error: bool | None = None
    image: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for key in PART_FIELDS[self.type]:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> Part:
        if not isinstance(raw, dict):
            raise InvalidValue(where, f"a part is an object, got {type(raw).__name__}")
        kind = raw.get("type")
        if kind not in PART_TYPES:
            raise InvalidValue(f"{where}.type", f"{kind!r} is not one of {', '.join(PART_TYPES)}")
        allowed = PART_FIELDS[kind]
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "type" or value is None:
                continue
            if key not in allowed:
                raise InvalidValue(
                    f"{where}.{key}", f"a {kind} part has no field {key!r} (it has {', '.join(allowed)})"
                )
            if key == "is_error":
                if not isinstance(value, bool):
                    raise InvalidValue(f"{where}.is_error", f"expected true or false, got {value!r}")
            elif not isinstance(value, str):
                raise InvalidValue(f"{where}.{key}", f"expected text, got {type(value).__name__}")
            values[key] = value
        return cls(type=kind, **values)

    def plain(self) -> str:
        """The part as plain text, for readers of text only."""
        if self.type == "text":
            return self.text or ""
        if self.type == "thinking":
            return f"[thinking]\n{self.text or ''}"
        if self.type == "tool_call":
            call = f" (id {self.call_id})" if self.call_id else ""
            return f"[tool call{call}] {self.name or '?'}({self.arguments or ''})"
        if self.type == "tool_result":
            what = "tool error" if self.is_error else "tool result"
            of = f" of {self.name}" if self.name else ""
            call = f" (id {self.call_id})" if self.call_id else ""
            return f"[{what}{of}{call}]\n{self.content or ''}"
        return f"[image: {self.image}]"


@dataclass(slots=True)
class Step:
    parts: list[Part]
    role: str | None = None
    agent: str | None = None
    # Which messages of the source this step holds (0-based), so labels given per message find their step.
    messages: list[int] = field(default_factory=list)
    # Where the step's text starts in the source's one text, when the steps were cut from it (a Fine-Grained
    # RLHF answer split into sentences): offsets into the whole are this plus offsets into the step.
    offset: int | None = None

    @property
    def text(self) -> str:
        body = "\n\n".join(p.plain() for p in self.parts if p.plain())
        if self.role in MODEL_ROLES and not self.agent:
            return body
        who = f"{self.role or 'message'}" + (f" ({self.agent})" if self.agent else "")
        return f"[{who}]\n{body}" if body else f"[{who}]"

    def is_plain(self) -> bool:
        """One text part and nothing else: a step as Redline always had them."""
        return (
            (len(self.parts) == 1 and self.parts[0].type == "text" and self.role is None and self.agent is None)
            and not self.messages
            and self.offset is None
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"parts": [p.as_dict() for p in self.parts]}
        if self.role is not None:
            out["role"] = self.role
        if self.agent is not None:
            out["agent"] = self.agent
        if self.messages:
            out["messages"] = list(self.messages)
        if self.offset is not None:
            out["offset"] = self.offset
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> Step:
        if not isinstance(raw, dict):
            raise InvalidValue(where, f"a step is an object, got {type(raw).__name__}")
        parts = raw.get("parts")
        if not isinstance(parts, list):
            raise InvalidValue(f"{where}.parts", "expected a list of parts")
        for key in ("role", "agent"):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise InvalidValue(f"{where}.{key}", f"expected text, got {type(raw[key]).__name__}")
        messages = raw.get("messages") or []
        if not isinstance(messages, list) or not all(isinstance(m, int) and not isinstance(m, bool) for m in messages):
            raise InvalidValue(f"{where}.messages", "expected a list of message indices")
        offset = raw.get("offset")
        if offset is not None and (not isinstance(offset, int) or isinstance(offset, bool) or offset < 0):
            raise InvalidValue(f"{where}.offset", f"{offset!r} is not an offset")
        return cls(
            parts=[Part.from_dict(p, f"{where}.parts[{k}]") for k, p in enumerate(parts)],
            role=raw.get("role"),
            agent=raw.get("agent"),
            messages=list(messages),
            offset=offset,
        )


def text_step(text: str) -> Step:
    return Step(parts=[Part("text", text=text)])


def arguments_text(value: Any) -> str | None:
    """Tool-call arguments as JSON text: a string stays exactly as given (valid JSON or not), anything else is
    encoded once."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def pretty_arguments(arguments: str | None) -> tuple[str, bool]:
    """Arguments for a person to read: indented when they are JSON; else as given, with False."""
    if arguments is None:
        return "", True
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False, indent=2), True
    except ValueError:
        return arguments, False


def steps_data(steps: list[Step] | None) -> list[dict[str, Any]] | None:
    return None if steps is None else [s.as_dict() for s in steps]


def steps_from_data(raw: Any, where: str = "step_parts") -> list[Step] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidValue(where, "expected a list of steps")
    return [Step.from_dict(s, f"{where}[{i}]") for i, s in enumerate(raw)]


def step_of_message(steps: list[Step], message: int) -> int | None:
    """The step that holds source message ``message`` (0-based), or None when no step does."""
    for i, step in enumerate(steps):
        if message in step.messages:
            return i
    return None


def set_steps(trace: Any, steps: list[Step]) -> None:
    """Give ``trace`` these steps: their plain text in ``trace.steps`` and, unless every one is a plain text
    step, the parts in ``trace.step_parts``."""
    trace.steps = [s.text for s in steps]
    trace.step_parts = None if all(s.is_plain() for s in steps) else steps


def read_structure(trace: Any, raw: Any, where: str = "structure") -> None:
    """Put a stored ``Trace.structure()`` back on ``trace``."""
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise InvalidValue(where, "expected an object")
    trace.step_parts = steps_from_data(raw.get("steps"), f"{where}.steps")
    context = raw.get("context") or {}
    images = raw.get("images") or []
    if not isinstance(context, dict):
        raise InvalidValue(f"{where}.context", "expected an object")
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise InvalidValue(f"{where}.images", "expected a list of image names")
    trace.context = context
    trace.images = images


def steps_of(trace: Any) -> list[Step]:
    """The trace's steps as parts: a text trace's steps are one text part each."""
    return trace.step_parts if trace.step_parts is not None else [text_step(t) for t in trace.steps]


def image_refs(trace: Any) -> list[str]:
    """Every image the trace names: the problem's, then the steps' in order."""
    refs = list(trace.images)
    for step in trace.step_parts or ():
        refs.extend(p.image for p in step.parts if p.type == "image" and p.image)
    return refs


def is_remote(ref: str) -> bool:
    """A web address: kept as a link, never fetched by Redline nor loaded by the page."""
    return ref.lower().startswith(("http://", "https://"))


def data_uri(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


#: Where an export writes the project's images, beside its data files.
IMAGE_FOLDER = "images"


def image_path(ref: str) -> str:
    """An image as an export names it: a stored image by its path beside the export, a remote URL as it is."""
    return ref if is_remote(ref) else f"{IMAGE_FOLDER}/{ref}"


def splittable_text(step: Step) -> str | None:
    """The step's one text (or thinking) part, which a person may cut in two; None for any other step."""
    if len(step.parts) == 1 and step.parts[0].type in ("text", "thinking"):
        return step.parts[0].text or ""
    return None
