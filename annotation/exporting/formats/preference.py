"""What DPO and KTO share: the label must be a person's (or the reference's), and turns for the conversational shape."""

from __future__ import annotations

from typing import Any

from annotation.exporting.formats.base import ExportItem


def human_checked(item: ExportItem) -> bool:
    """A label a trainer may prefer over a critic's: anything but a model's own judgment."""
    return item.label is not None and item.label_source is not None and not item.label_source.startswith("model:")


def turn(role: str, content: str, conversational: bool) -> Any:
    return [{"role": role, "content": content}] if conversational else content


def text_or_messages(conversational: bool):
    import pyarrow as pa

    from annotation.exporting.formats.critique_sft import message_type

    return message_type() if conversational else pa.string()
