"""OpenRLHF's process reward data, as ``openrlhf.cli.train_prm`` reads it (Math-Shepherd's layout).

``input`` is the problem, then each kept step as "Step N: ..." followed by the placeholder " ки", a line each;
``label`` lists "+" (correct) or "-" (wrong) per placeholder, in order. ProcessRewardDataset (OpenRLHF 0.9.5,
the last release with train_prm: 0.9.6 removed it) tokenizes ``input`` and puts each label's token id on a
placeholder's position, so a step or problem that itself contains the placeholder would shift every label after
it: such a trace is left out. Train with
``--input_key input --label_key label --placeholder_token ки --reward_tokens + -``; with a byte-level BPE tokenizer,
where " ки" (the space the export puts before it included) may be another token than "ки" alone, pass
``--placeholder_token " ки"`` (docs/export.md says how to tell).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions
from annotation.exporting.formats.step_labels import labelled_steps

PLACEHOLDER = "ки"
GOOD, BAD = "+", "-"


def tagged_input(problem: str, steps: list[str]) -> str:
    """Math-Shepherd's text: the problem, a space, then "Step N: <step> ки" lines (Redline's importer reads it)."""
    return f"{problem} " + "\n".join(f"Step {n}: {step} {PLACEHOLDER}" for n, step in enumerate(steps, 1))


class OpenRLHFPRM(Exporter):
    name = "openrlhf-prm"
    title = "OpenRLHF process reward (Math-Shepherd style)"
    description = 'input (steps each followed by "ки"), label ("+" / "-" per step) for OpenRLHF\'s train_prm'
    trainer = (
        "OpenRLHF 0.9.5: openrlhf.cli.train_prm with --input_key input --label_key label --placeholder_token ки "
        "--reward_tokens + - (train_prm was removed in OpenRLHF 0.9.6)"
    )
    uses_step_labels = True

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        return pa.schema([("input", pa.string()), ("label", pa.list_(pa.string()))])

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        kept = labelled_steps(item, options, tally)
        if kept is None:
            return
        steps, labels = kept
        if PLACEHOLDER in item.trace.problem or any(PLACEHOLDER in s for s in steps):
            tally[f"the text holds the placeholder {PLACEHOLDER}"] += 1
            return
        yield {"input": tagged_input(item.trace.problem, steps), "label": [GOOD if ok else BAD for ok in labels]}

    def record_label(self, record: dict[str, Any]) -> str:
        return "every step correct" if BAD not in record["label"] else "has a wrong step"
