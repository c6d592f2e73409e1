"""A field holding a conversation, in whichever chat shape it comes: what the generic mapping's
``--map steps=FIELD`` reads when the field is a list of messages."""

from __future__ import annotations

from typing import Any

from annotation.importing.formats.anthropic_messages import read_messages as read_anthropic
from annotation.importing.formats.base import ConvertContext, ImportedRecord
from annotation.importing.formats.openai_messages import ANTHROPIC_BLOCKS, block_types, chat_record, read_message
from annotation.importing.formats.reading import RawRecord


def conversation_record(
    raw: RawRecord, ctx: ConvertContext, data: dict[str, Any], where: str, problem: str | None = None
) -> ImportedRecord:
    """``problem``: the task as a mapped column gives it; then the first user message is a step like the rest."""
    value = data[where]
    if block_types(value) & ANTHROPIC_BLOCKS:
        messages = read_anthropic(value, where, ctx)
    else:
        messages = [read_message(m, k, f"{where}[{k}]", ctx) for k, m in enumerate(value)]
    return chat_record(raw, ctx, data, where, messages, generator=data.get("model"), given_problem=problem)
