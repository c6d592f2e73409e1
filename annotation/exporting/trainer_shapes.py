"""What each trainer's own data loading expects of an export, checked without importing the trainer.

Each shape names the columns the trainer reads and their types (as ``datasets`` features), and what the trainer
takes for granted of a row and would otherwise get wrong silently or fail on mid-run: as many labels as
placeholders (OpenRLHF), one label per step (TRL, Axolotl), a text prompt that does not run into its completion
or first step (TRL's DPO and KTO, and the PRM trainers of TRL and Axolotl, join them as they are), a conversation
that ends with the answer to learn (SFT). The versions are those whose code was read; docs/export.md says the
same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from annotation.exporting.formats.openrlhf_prm import BAD, GOOD, PLACEHOLDER

ROLES = ("system", "user", "assistant", "tool")


def _value(feature: Any, *dtypes: str) -> bool:
    import datasets

    return isinstance(feature, datasets.Value) and feature.dtype in dtypes


def _inner(feature: Any) -> Any | None:
    import datasets

    return feature.feature if isinstance(feature, datasets.Sequence | datasets.LargeList) else None


def is_text(feature: Any) -> bool:
    return _value(feature, "string", "large_string")


def is_texts(feature: Any) -> bool:
    return is_text(_inner(feature))


def is_flags(feature: Any) -> bool:
    return _value(_inner(feature), "bool", "int8", "int16", "int32", "int64")


def is_bool(feature: Any) -> bool:
    return _value(feature, "bool")


def is_messages(feature: Any) -> bool:
    inner = _inner(feature)
    return isinstance(inner, dict) and is_text(inner.get("role")) and is_text(inner.get("content"))


def is_text_or_messages(feature: Any) -> bool:
    return is_text(feature) or is_messages(feature)


KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "text": ("text", is_text),
    "texts": ("a list of texts", is_texts),
    "flags": ("a list of booleans (or integers)", is_flags),
    "bool": ("a boolean", is_bool),
    "messages": ("chat messages (role, content)", is_messages),
    "text_or_messages": ("text, or chat messages (role, content)", is_text_or_messages),
}


@dataclass(frozen=True)
class TrainerShape:
    #: The export format's name; the trainer and its version are the format's own (Exporter.trainer).
    name: str
    #: Column -> kind (a key of KINDS).
    columns: dict[str, str]
    #: The problems of one row (empty when it is fine).
    row_problems: Callable[[dict[str, Any]], list[str]] = field(default=lambda row: [])
    #: Columns a trainer casts itself before use: the same cast is tried on the data.
    casts: dict[str, str] = field(default_factory=dict)

    @property
    def trainer(self) -> str:
        from annotation.exporting.formats import EXPORTS

        return EXPORTS.get(self.name).trainer


def _runs_into(prompt: str | None, text: str | None) -> bool:
    """A text prompt joined to what follows as it is, with no whitespace where they meet."""
    return bool(prompt and text) and not prompt[-1].isspace() and not text[0].isspace()


def _stepwise(row: dict[str, Any]) -> list[str]:
    steps, labels = row["completions"], row["labels"]
    if not steps:
        return ["no completions (steps)"]
    if len(labels) != len(steps):
        return [f"{len(labels)} labels for {len(steps)} completions: the trainer pairs them one to one"]
    problems = [f"label {i} is null" for i, v in enumerate(labels) if v is None]
    if _runs_into(row["prompt"], steps[0]):
        # The trainer puts the prompt's tokens straight before the first step's; the step separator comes after
        # each step only.
        problems.append("the prompt runs straight into the first completion (no separator between them)")
    return problems


def _openrlhf(row: dict[str, Any]) -> list[str]:
    labels, text = row["label"], row["input"] or ""
    if not labels:
        return ["no labels: ProcessRewardDataset reads the first label to tell tokens from numbers"]
    problems = [f"label {i} is {v!r}, not {GOOD!r} or {BAD!r}" for i, v in enumerate(labels) if v not in (GOOD, BAD)]
    tags = text.count(PLACEHOLDER)
    if tags != len(labels):
        problems.append(f"{tags} placeholders {PLACEHOLDER!r} in input for {len(labels)} labels: labels would shift")
    return problems


def _turns(messages: list[dict[str, Any]] | None, where: str) -> list[str]:
    if not messages:
        return [f"{where}: no messages"]
    problems = []
    for i, m in enumerate(messages):
        if m.get("role") not in ROLES:
            problems.append(f"{where}: message {i} has role {m.get('role')!r}")
        if m.get("content") is None:
            problems.append(f"{where}: message {i} has no text content")
    return problems


def _sft(row: dict[str, Any]) -> list[str]:
    messages = row["messages"]
    problems = _turns(messages, "messages")
    if messages and messages[-1].get("role") != "assistant":
        problems.append("the last message is not the assistant's: there is nothing to learn")
    return problems


def _preference(completions: tuple[str, ...]) -> Callable[[dict[str, Any]], list[str]]:
    def check(row: dict[str, Any]) -> list[str]:
        named = [("prompt", row["prompt"]), *((c, row[c]) for c in completions)]
        prompt = row["prompt"]
        if any(isinstance(v, list) for _, v in named):
            if not all(isinstance(v, list) for _, v in named):
                return ["the prompt and the completions mix text and chat messages"]
            return [p for name, v in named for p in _turns(v, name)]
        problems = [f"{name} is empty" for name, v in named if not v]
        for name, v in named[1:]:
            if _runs_into(prompt, v):
                problems.append(f"the prompt runs straight into the {name} (no separator between them)")
        return problems

    return check


def _dpo(row: dict[str, Any]) -> list[str]:
    problems = _preference(("chosen", "rejected"))(row)
    if row["chosen"] == row["rejected"]:
        problems.append("chosen and rejected are the same")
    return problems


SHAPES: dict[str, TrainerShape] = {
    s.name: s
    for s in (
        TrainerShape(
            "openrlhf-prm",
            {"input": "text", "label": "texts"},
            _openrlhf,
        ),
        TrainerShape(
            "axolotl-prm",
            {"prompt": "text", "completions": "texts", "labels": "flags"},
            _stepwise,
            casts={"labels": "int64"},
        ),
        TrainerShape(
            "trl-stepwise",
            {"prompt": "text", "completions": "texts", "labels": "flags"},
            _stepwise,
        ),
        TrainerShape(
            "critique-sft",
            {"messages": "messages"},
            _sft,
        ),
        TrainerShape(
            "dpo",
            {"prompt": "text_or_messages", "chosen": "text_or_messages", "rejected": "text_or_messages"},
            _dpo,
        ),
        TrainerShape(
            "kto",
            {"prompt": "text_or_messages", "completion": "text_or_messages", "label": "bool"},
            _preference(("completion",)),
        ),
    )
}
