"""Anthropic messages: ``{role, content}`` with content blocks, the system prompt and tools beside them.

Blocks: ``text``; ``thinking`` (and ``redacted_thinking``, kept as a note that it was redacted);
``tool_use`` (id, name, input) and ``server_tool_use``; ``tool_result`` (``tool_use_id``, ``content`` as text
or blocks, ``is_error``) and the server tools' ``*_tool_result``; ``image`` with a base64 or URL ``source``.
Tool results arrive in the user message after the call: grouped by turn, they join the assistant's step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from annotation.core.model import InvalidValue
from annotation.core.parts import Part, arguments_text
from annotation.importing.formats import conversation as conv
from annotation.importing.formats.base import Adapter, ConvertContext, ImportedRecord
from annotation.importing.formats.openai_messages import anthropic_shaped, chat_record
from annotation.importing.formats.reading import RawRecord

MESSAGE_FIELDS = ("messages",)


class AnthropicMessages(Adapter):
    name = "anthropic-messages"
    title = "Anthropic messages"
    description = "a conversation per record: content blocks text, thinking, tool_use, tool_result, image"
    file_fields = {"steps": "messages"}

    def detect(self, sample: Sequence[dict[str, Any]]) -> bool:
        return bool(sample) and all(anthropic_shaped(r) for r in sample)

    def convert(self, raw: RawRecord, ctx: ConvertContext) -> ImportedRecord:
        data = raw.data
        where = conv.messages_field(data, ctx.options.messages_field, MESSAGE_FIELDS)
        value = data[where]
        if not isinstance(value, list):
            raise InvalidValue(where, f"expected a list of messages, got {type(value).__name__}")
        messages = read_messages(value, where, ctx)
        system = data.get("system")
        if isinstance(system, list):
            texts = []
            for k, block in enumerate(system):
                text = block.get("text") if isinstance(block, dict) else None
                if not isinstance(text, str):
                    raise InvalidValue(f"system[{k}].text", "a system block holds text")
                texts.append(text)
            system = "\n\n".join(texts)
        if system is not None and not isinstance(system, str):
            raise InvalidValue("system", f"expected text or text blocks, got {type(system).__name__}")
        return chat_record(raw, ctx, data, where, messages, generator=data.get("model"), system=system or None)


def read_messages(value: list[Any], where: str, ctx: ConvertContext) -> list[conv.Message]:
    return [_message(m, k, f"{where}[{k}]", ctx) for k, m in enumerate(value)]


def _message(raw: Any, index: int, where: str, ctx: ConvertContext) -> conv.Message:
    if not isinstance(raw, dict):
        raise InvalidValue(where, f"a message is an object, got {type(raw).__name__}")
    role = conv.role_of(raw, where)
    content = raw.get("content")
    if content is None:
        return conv.Message(index, role, [])
    if isinstance(content, str):
        return conv.Message(index, role, conv.text_parts(content))
    if not isinstance(content, list):
        raise InvalidValue(f"{where}.content", f"expected text or a list of blocks, got {type(content).__name__}")
    parts: list[Part] = []
    for k, block in enumerate(content):
        parts.extend(_block(block, f"{where}.content[{k}]", ctx))
    return conv.Message(index, role, parts)


def _block(block: Any, at: str, ctx: ConvertContext) -> list[Part]:
    if not isinstance(block, dict):
        raise InvalidValue(at, f"a content block is an object, got {type(block).__name__}")
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise InvalidValue(f"{at}.text", "missing: a text block holds text")
        return conv.text_parts(text)
    if kind == "thinking":
        return [Part("thinking", text=str(block.get("thinking") or ""))]
    if kind == "redacted_thinking":
        return [Part("thinking", text="[redacted by the provider]")]
    if kind in ("tool_use", "server_tool_use"):
        name = block.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidValue(f"{at}.name", "missing: a tool_use block names its tool")
        return [
            Part("tool_call", name=name, arguments=arguments_text(block.get("input")), call_id=_id(block, "id", at))
        ]
    if kind == "tool_result" or (isinstance(kind, str) and kind.endswith("_tool_result")):
        return _result(block, at, ctx)
    if kind == "image":
        return [Part("image", image=ctx.image(_image_source(block.get("source"), f"{at}.source"), f"{at}.source"))]
    raise InvalidValue(f"{at}.type", f"{kind!r} is not a content block Redline reads")


def _result(block: dict[str, Any], at: str, ctx: ConvertContext) -> list[Part]:
    content = block.get("content")
    images: list[Part] = []
    if isinstance(content, list):
        texts = []
        for k, inner in enumerate(content):
            if isinstance(inner, dict) and inner.get("type") == "image":
                where = f"{at}.content[{k}].source"
                images.append(Part("image", image=ctx.image(_image_source(inner.get("source"), where), where)))
            elif isinstance(inner, dict) and inner.get("type") == "text":
                texts.append(str(inner.get("text", "")))
            else:
                texts.append(json.dumps(inner, ensure_ascii=False))
        text = "\n\n".join(texts)
    elif content is None or isinstance(content, str):
        text = content
    else:
        text = arguments_text(content)
    is_error = block.get("is_error")
    if is_error is not None and not isinstance(is_error, bool):
        raise InvalidValue(f"{at}.is_error", f"expected true or false, got {is_error!r}")
    result = Part("tool_result", content=text, is_error=is_error, call_id=_id(block, "tool_use_id", at))
    return [result, *images]


def _id(block: dict[str, Any], key: str, at: str) -> str | None:
    value = block.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InvalidValue(f"{at}.{key}", f"expected text, got {type(value).__name__}")


def _image_source(source: Any, at: str) -> str:
    if not isinstance(source, dict):
        raise InvalidValue(at, "an image block needs a source object")
    if source.get("type") == "base64":
        return f"data:{source.get('media_type') or 'image/png'};base64,{source.get('data') or ''}"
    if source.get("type") == "url":
        return str(source.get("url") or "")
    raise InvalidValue(f"{at}.type", f"{source.get('type')!r}: Redline reads base64 and url image sources")
