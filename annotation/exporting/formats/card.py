"""The dataset card (README.md): what was exported, from where, how the labels are spread, and how far people agree.

Project names, licences and sources are the project's own text; the card is Markdown meant for a
dataset hub, so they are put on one line and, in the YAML header, written as double-quoted YAML strings in
UTF-8 (an emoji as itself: an escaped surrogate pair is no character YAML readers can encode).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from annotation.core.model import NO_ERROR
from annotation.exporting.formats.base import ExportItem, ExportOptions
from annotation.exporting.formats.licences import hub_licence_id

TOP_SOURCES = 20
DISAGREEMENT_TITLES = {
    "latest": "the majority's first error, a tie going to the most recent judgment",
    "majority": "the majority's first error, ties left out",
    "leave_out": "left out",
}


def one_line(text: Any) -> str:
    return " ".join(str(text).split())


def first_error_class(first: int | None) -> str:
    """Steps counted as on every page (from 1), beside the 0-based label the exported records carry."""
    if first is None:
        return "not judged"
    if first == NO_ERROR:
        return "no error (label -1)"
    return f"step {first + 1} (label {first})" if first < 10 else "step 11 or later (label 10 or more)"


@dataclass
class CardFacts:
    project: str
    licence: str
    format_name: str
    format_title: str
    format_description: str
    output: str
    options: ExportOptions
    #: The trainer (and version) the format was checked against; "" when it is no trainer's shape.
    trainer: str = ""
    #: The format's own options the card names (``step_labels``, ``conversational``, ``critic_prompt``,
    #: ``separator``): a PRM export has no critic prompt, a chat export no separator.
    applies: tuple[str, ...] = ()
    records: Counter = field(default_factory=Counter)
    traces: Counter = field(default_factory=Counter)
    record_labels: Counter = field(default_factory=Counter)
    first_errors: Counter = field(default_factory=Counter)
    label_sources: Counter = field(default_factory=Counter)
    left_out: Counter = field(default_factory=Counter)
    traces_seen: int = 0
    multi_judged: int = 0
    #: Kept traces whose human label settled a tie between first errors by taking the most recent judgment.
    ties_settled_by_latest: int = 0
    all_agree: int = 0
    agreement_sum: float = 0.0

    def add_item(self, item: ExportItem, records: int) -> None:
        """A trace that stayed in, with the number of records it gave."""
        if records:
            self.traces[item.split] += 1
            self.first_errors[first_error_class(item.label.first_error if item.label else None)] += 1
            self.label_sources[item.label_source or "none"] += 1
            self.ties_settled_by_latest += item.tie and (item.label_source or "").startswith("human:")
        if item.agreement is not None:
            self.multi_judged += 1
            self.all_agree += item.agreement == 1.0
            self.agreement_sum += item.agreement

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": dict(self.records),
            "traces": dict(self.traces),
            "record_labels": dict(self.record_labels),
            "first_errors": dict(self.first_errors),
            "label_sources": dict(self.label_sources),
            "left_out": dict(self.left_out),
            "traces_seen": self.traces_seen,
            "agreement": {
                "traces_with_two_or_more_humans": self.multi_judged,
                "share_all_agree": self.all_agree / self.multi_judged if self.multi_judged else None,
                "mean_majority_share": self.agreement_sum / self.multi_judged if self.multi_judged else None,
                "ties_settled_by_latest": self.ties_settled_by_latest,
            },
        }


# YAML reads these as line breaks or refuses them as unprintable, though JSON leaves them as they are.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar in UTF-8: JSON's escapes (which YAML shares) only where YAML needs them."""
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _table(counts: Counter, header: str, total: int | None = None) -> list[str]:
    if not counts:
        return ["(none)"]
    total = total or sum(counts.values())
    lines = [f"| {header} | count | share |", "|---|---:|---:|"]
    for key, n in counts.most_common():
        lines.append(f"| {one_line(key).replace('|', '/')} | {n:,} | {n / total:.1%} |")
    return lines


def _options_lines(o: ExportOptions, applies: tuple[str, ...]) -> list[str]:
    lines = [f"- labels: `{one_line(o.source)}` (only submitted judgments: {'yes' if o.only_submitted else 'no'})"]
    if "step_labels" in applies:
        lines.append(f"- step labels: {o.step_labels}")
    if "conversational" in applies:
        lines.append(f"- conversational: {'yes' if o.conversational else 'no'}")
    if "critic_prompt" in applies:
        lines.append(f"- critic prompt: {o.critic_prompt or 'redline'}")
    if "separator" in applies:
        lines.append(f"- text prompts end with {json.dumps(o.separator)}")
    if o.min_agreement is not None:
        lines.append(f"- minimum human agreement: {o.min_agreement:g}")
    lines.append(f"- where the humans disagree: {DISAGREEMENT_TITLES[o.disagreements]}")
    if o.leave_out_unfinished is not None:
        lines.append(f"- leave out bad_problem / give_up: {'yes' if o.leave_out_unfinished else 'no'}")
    if o.where:
        lines.append("- filter: " + ", ".join(f"`{one_line(k)}={one_line(v)}`" for k, v in o.where.items()))
    if o.test_share:
        lines.append(f"- test split: {o.test_share:.0%} of the problems (by a hash of the problem text)")
    if o.limit:
        lines.append(f"- at most {o.limit:,} traces")
    return lines


def render_card(facts: CardFacts, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    licence = one_line(facts.licence)
    stats = facts.as_dict()["agreement"]
    licence_id = hub_licence_id(licence)
    header = [
        "---",
        f"license: {licence_id}",
        *([f"license_name: {yaml_string(licence)}"] if licence_id == "other" else []),
        f"pretty_name: {yaml_string(f'{one_line(facts.project)} ({facts.format_name})')}",
        "tags:",
        "  - redline",
        "  - step-level-feedback",
        f"  - {facts.format_name}",
        "---",
        "",
    ]
    body = [
        f"# {one_line(facts.project)}: {facts.format_title}",
        "",
        f"Exported from the Redline project **{one_line(facts.project)}** on {now:%Y-%m-%d %H:%M} UTC.",
        f"Format: `{facts.format_name}` ({facts.format_description}); written as {facts.output}.",
        *([f"Read by: {facts.trainer}."] if facts.trainer else []),
        "",
        f"Licence: {licence or 'not set in the project'}",
        "",
        "## Counts",
        "",
        "| split | records | traces |",
        "|---|---:|---:|",
        *(f"| {s} | {facts.records[s]:,} | {facts.traces[s]:,} |" for s in sorted(facts.records)),
        "",
        f"Traces read: {facts.traces_seen:,}; left out: {sum(facts.left_out.values()):,}.",
        "",
        *(_table(facts.left_out, "left out because") if facts.left_out else []),
        "",
        "## Label distribution",
        "",
        *_table(facts.record_labels, "record label"),
        "",
        "First error of the exported traces. Steps are counted from 1, as on every page of Redline; the records "
        "carry the 0-based index (the label), -1 for no error:",
        "",
        *_table(facts.first_errors, "first error"),
        "",
        "## Sources",
        "",
        *_table(Counter(dict(facts.label_sources.most_common(TOP_SOURCES))), "label source"),
        "",
        "## Agreement",
        "",
    ]
    if stats["traces_with_two_or_more_humans"]:
        body += [
            f"- traces judged by two or more people: {stats['traces_with_two_or_more_humans']:,}",
            f"- share where they all chose the same first error: {stats['share_all_agree']:.1%}",
            f"- mean share agreeing with the majority: {stats['mean_majority_share']:.1%}",
            f"- ties between first errors settled by the most recent judgment: {stats['ties_settled_by_latest']:,}"
            + (
                " (choose 'majority, ties left out' or 'leave out disagreements' to keep them out)"
                if stats["ties_settled_by_latest"]
                else ""
            ),
        ]
    else:
        body.append("No trace was judged by two or more people, so there is no agreement figure.")
    body += ["", "## Export options", "", *_options_lines(facts.options, facts.applies)]
    return "\n".join(header + body)
