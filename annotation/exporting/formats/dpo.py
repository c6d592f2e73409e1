"""Preference pairs for DPO, in TRL's standard (``prompt``/``chosen``/``rejected`` text) or conversational shape.

Two kinds of pair:

* critique: the critic prompt; chosen, the critique written from the human-checked label; rejected, a
  model's critique (its own words when kept) that put the first error at another step;
* correction: the problem and the steps before a wrong step; chosen, the correction an annotator wrote;
  rejected, the wrong step.

With ``usefulness`` (annotation.exporting.usefulness) the pairs are instead a critique that helped a reviser fix or
keep the solution (chosen) over one that broke it (rejected), on the same trace.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from annotation.exporting.formats.base import Exporter, ExportItem, ExportOptions
from annotation.exporting.formats.critique_text import (
    answer_prompt,
    correction_prompt,
    critique_answer,
    model_critique,
)
from annotation.exporting.formats.preference import (
    critic_input,
    human_checked,
    prompt_turn,
    text_or_messages,
    turn,
    with_image_files,
    with_images,
)


def critique_pairs(item: ExportItem, options: ExportOptions) -> Iterator[dict[str, Any]]:
    label = item.label
    assert label is not None and label.first_error is not None
    n = len(item.trace.steps)
    chosen = critique_answer(label, n)
    prompt = critic_input(item.trace, options)
    conversational = options.conversational
    for source, judgment in item.judgments.items():
        if not source.startswith("model:") or judgment.first_error in (None, label.first_error):
            continue
        rejected = model_critique(judgment, n)
        if rejected:
            yield {
                "prompt": prompt,
                "chosen": turn("assistant", chosen, conversational),
                "rejected": turn("assistant", rejected, conversational),
            }


def correction_pairs(item: ExportItem, options: ExportOptions) -> Iterator[dict[str, Any]]:
    conversational = options.conversational
    seen: set[tuple[int, str]] = set()
    for source, corrections in sorted(item.corrections.items()):
        if source.startswith("model:"):
            continue
        judgment = item.judgments[source]
        for step, text in sorted(corrections.items()):
            verdict = judgment.steps[step].verdict if step < len(judgment.steps) else None
            wrong = verdict == -1 or step == judgment.first_error
            if not wrong or not 0 <= step < len(item.trace.steps) or (step, text.strip()) in seen:
                continue
            seen.add((step, text.strip()))
            yield {
                "prompt": prompt_turn(correction_prompt(item.trace, step), options),
                "chosen": turn("assistant", text, conversational),
                "rejected": turn("assistant", item.trace.steps[step], conversational),
            }


def answer_pairs(item: ExportItem, options: ExportOptions) -> Iterator[dict[str, Any]]:
    """A person's corrected answer (as Fine-Grained RLHF collects it) over the answer the model gave."""
    conversational = options.conversational
    original = item.trace.answer if item.trace.answer is not None else "\n\n".join(item.trace.steps)
    seen: set[str] = set()
    for source, judgment in sorted(item.judgments.items()):
        corrected = judgment.corrected_answer
        if source.startswith("model:") or not corrected or not corrected.strip() or corrected == original:
            continue
        if corrected in seen:
            continue
        seen.add(corrected)
        yield {
            "prompt": prompt_turn(answer_prompt(item.trace), options),
            "chosen": turn("assistant", corrected, conversational),
            "rejected": turn("assistant", original, conversational),
        }


def usefulness_pairs(item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
    """A critique that helped the reviser (chosen) over one that broke a right solution (rejected), same trace."""
    from annotation.exporting.usefulness import critiques_by_label
    from annotation.revision.figures import HARMFUL, HELPFUL

    found = critiques_by_label(item)
    if not found[HELPFUL] or not found[HARMFUL]:
        tally["no helpful and harmful critique on the same trace"] += 1
        return
    prompt = critic_input(item.trace, options)
    for chosen in found[HELPFUL]:
        for rejected in found[HARMFUL]:
            pair = {
                "prompt": prompt,
                "chosen": turn("assistant", chosen, options.conversational),
                "rejected": turn("assistant", rejected, options.conversational),
            }
            yield with_image_files(pair, item, options)


class DPO(Exporter):
    name = "dpo"
    writes_images = True
    title = "DPO preference pairs"
    description = "prompt, chosen, rejected: human critiques over wrong model critiques; corrections over wrong steps"
    trainer = "TRL 1.16.0: DPOTrainer (preference: prompt, chosen, rejected; a text prompt is joined to each as is)"
    uses_critic_prompt = uses_conversational = separates_prompt = True

    def arrow_schema(self, options: ExportOptions):
        import pyarrow as pa

        kind = text_or_messages(options.conversational, options.tools)
        return with_images(pa.schema([("prompt", kind), ("chosen", kind), ("rejected", kind)]), options)

    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        if options.usefulness is not None:
            yield from usefulness_pairs(item, options, tally)
            return
        if not human_checked(item):
            tally["no human-checked label"] += 1
            return
        made = 0
        if "critique" in options.pairs and item.label is not None and item.label.first_error is not None:
            for pair in critique_pairs(item, options):
                made += 1
                yield with_image_files(pair, item, options)
        if "correction" in options.pairs:
            for pair in correction_pairs(item, options):
                made += 1
                yield with_image_files(pair, item, options)
        if "answer" in options.pairs:
            for pair in answer_pairs(item, options):
                made += 1
                yield with_image_files(pair, item, options)
        if not made:
            tally["nothing to pair"] += 1

    def record_label(self, record: dict[str, Any]) -> str:
        prompt = record["prompt"]
        text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
        if text.startswith("[Question]"):
            return "corrected answer pair"
        return "correction pair" if text.startswith("[Problem]") else "critique pair"
