"""What DPO and KTO share: the label must be a person's (or the reference's), and turns for the conversational shape.

Text rows end their prompt with the export's separator (a newline by default): trainers join a text prompt and
its completion as they are, and without it the model would see the critique run on from "\\boxed{}.".
"""

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


def prompt_turn(content: str, options: ExportOptions) -> Any:
    """A prompt: a user turn, or the text followed by the separator."""
    return turn("user", content, True) if options.conversational else content + options.separator


def critic_input(trace: Trace, options: ExportOptions) -> Any:
    """The critic's prompt: the text prompt and the separator, or as turns (for an agent's trace, the conversation
    itself)."""
    if options.conversational:
        return critique_messages(trace, options.critic_prompt or "redline")
    return critique_prompt(trace, options.critic_prompt or "redline") + options.separator


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
