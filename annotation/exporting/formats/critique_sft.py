"""Critique SFT as chat messages: the problem and its numbered steps in, a step-by-step critique out.

The user turn is the critic prompt (steps as ``<paragraph_i>``, indexed from 0): ProcessBench's exact template,
or Redline's wording of it for any problem (critique_text); for an agent's
trace, the conversation itself with tool calls and results (chat_turns), then the critic's request. The
assistant turn judges each step in turn with the label's own critiques, up to the first error, and ends with that
step's index in ``\\boxed{}`` (-1 when every step is right). With ``usefulness``, only labels whose critique helped
the reviser are written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.core.model import NO_ERROR
from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions
from annotation.exporting.formats.chat_turns import critique_messages, message_type
from annotation.exporting.formats.critique_text import critique_answer
from annotation.exporting.formats.preference import with_image_files, with_images


class CritiqueSFT(Exporter):
    name = "critique-sft"
    title = "Critique SFT (chat messages)"
    description = "messages: the problem with numbered steps, then a step-by-step critique ending in \\boxed{index}"
    trainer = "TRL 1.16.0: SFTTrainer (conversational language modelling, a messages column)"
    uses_critic_prompt = True

    writes_images = True

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        return with_images(pa.schema([("messages", message_type(options.tools))]), options)

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        if item.label is None or item.label.first_error is None:
            tally["no first error given"] += 1
            return
        if options.usefulness is not None:
            from annotation.revision.figures import HELPFUL  # pandas and scipy: only for a usefulness export

            if item.usefulness.get(item.label_source or "") != HELPFUL:
                tally["its critique did not help the reviser"] += 1
                return
        answer = {"role": "assistant", "content": critique_answer(item.label, len(item.trace.steps))}
        messages = critique_messages(item.trace, options.critic_prompt or "redline")
        yield with_image_files({"messages": [*messages, answer]}, item, options)

    def record_label(self, record: dict[str, Any]) -> str:
        return "no error" if record["messages"][-1]["content"].endswith(f"\\boxed{{{NO_ERROR}}}") else "has an error"
