"""What DPO and KTO share: the label must be a person's (or the reference's), and turns for the conversational shape."""

from __future__ import annotations

from typing import Any

from annotation.core.model import Trace
from annotation.exporting.formats.base import ExportItem, ExportOptions
from annotation.exporting.formats.chat_turns import critique_messages, image_files, message_type
from annotation.exporting.formats.critique_text import critique_prompt


def human_checked(item: ExportItem) -> bool:
    """A label a trainer may prefer over a critic's: anything but a model's own judgment."""
    return item.label is not None and item.label_source is not None and not item.label_source.startswith("model:")


def turn(role: str, content: str, conversational: bool) -> Any:
    return [{"role": role, "content": content}] if conversational else content


def critic_input(trace: Trace, conversational: bool) -> Any:
    """The critic's prompt: the text prompt, or as turns (for an agent's trace, the conversation itself)."""
    return critique_messages(trace) if conversational else critique_prompt(trace)


def text_or_messages(conversational: bool, with_tools: bool = False):
    import pyarrow as pa

    return message_type(with_tools) if conversational else pa.string()


def with_images(schema, options: ExportOptions):
    """The schema with an ``images`` column (paths beside the export) when the project has stored images."""
    import pyarrow as pa

    return schema.append(pa.field("images", pa.list_(pa.string()))) if options.images else schema


def with_image_files(record: dict[str, Any], item: ExportItem, options: ExportOptions) -> dict[str, Any]:
    if options.images:
        record["images"] = image_files(item.trace)
    return record
