"""What every export format is, what it is given (one trace with its judgments and chosen label), and the options.

An exporter turns items into plain records (dicts of JSON-ready values); writing them to JSONL,
Parquet or a Hugging Face folder is the writers' business, so a format is written once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from annotation.core.model import InvalidValue, Judgment, Trace

if TYPE_CHECKING:
    import pyarrow as pa

STEP_LABEL_MODES = ("first-error", "every-step")
PAIR_KINDS = ("critique", "correction", "answer")
UNFINISHED = ("bad_problem", "give_up")
#: "Best available" labels: consensus, else submitted human judgments, else reference.
BEST = "best"
#: When the humans on a trace chose different first errors: the majority, a tie going to the most recent
#: judgment ("latest"); the majority with ties left out ("majority"); or no such trace at all ("leave_out").
DISAGREEMENTS = ("latest", "majority", "leave_out")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def separator_from(spelled: str) -> str:
    """A separator as people type it on a command line or in a text box: ``\\n``, ``\\t``, ``\\r`` and ``\\\\``
    stand for a newline, a tab, a carriage return and a backslash; anything else is itself."""
    out, chars = [], iter(spelled)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in _ESCAPES:
                raise InvalidValue("separator", f"\\{nxt} is not one of \\n, \\t, \\r, \\\\ (\\\\ is a backslash)")
            out.append(_ESCAPES[nxt])
        else:
            out.append(ch)
    return "".join(out)


def separator_spelled(separator: str) -> str:
    """The separator as separator_from reads it back."""
    back = {v: k for k, v in _ESCAPES.items()}
    return "".join(f"\\{back[ch]}" if ch in back else ch for ch in separator)


class ExportFailure(Exception):
    """An export that cannot be made as asked; nothing was left where the output should be."""


@dataclass(slots=True)
class ExportOptions:
    """What the person exporting chose. Formats read only what concerns them."""

    #: ``best``, ``consensus``, ``reference``, ``human`` (any human, chosen as in selection.py), ``human:NAME``,
    #: ``model:NAME``.
    source: str = BEST
    only_submitted: bool = True
    #: Least share of the human judgments on a trace that must agree on its first error (needs two or more).
    min_agreement: float | None = None
    #: How a human label is taken where the humans disagree (DISAGREEMENTS).
    disagreements: str = "latest"
    #: Leave out traces whose label gave up or called the problem bad; None = the format's own default.
    leave_out_unfinished: bool | None = None
    #: Keep only traces whose metadata (or generator / source_file / record_id) has these values.
    where: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    #: Share of problems that go to the test split; None = no split.
    test_share: float | None = None
    step_labels: str = "first-error"
    conversational: bool = False
    #: Ends every text prompt of DPO and KTO rows and of the PRM shapes with a prompt column, so that the prompt
    #: and what the trainer puts after it (a completion, the first step) do not run together.
    separator: str = "\n"
    #: The critic prompt of critique SFT, DPO and KTO (critique_text.CRITIC_PROMPTS); None: the project's default.
    critic_prompt: str | None = None
    pairs: tuple[str, ...] = PAIR_KINDS
    #: ``jsonl``, ``parquet`` or ``hf`` (a Hugging Face ``save_to_disk`` folder).
    output: str = "jsonl"
    #: Set from the project, not by the person: its traces have tool calls (chat columns carry their fields), and
    #: it holds images (an ``images`` column, with the files beside the export).
    tools: bool = False
    images: bool = False
    #: ``REVISER[/SHOW]``: select critiques by whether they helped that reviser (annotation.exporting.usefulness).
    usefulness: str | None = None


@dataclass(slots=True)
class ExportItem:
    """One trace as the exporters see it: every usable judgment, and the one chosen as its label."""

    trace_id: int
    position: int
    trace: Trace
    judgments: dict[str, Judgment]
    #: Per source, when the judgment was last changed (for "most recent" choices and PRM800K timestamps).
    updated: dict[str, datetime | None] = field(default_factory=dict)
    #: Per source, per step index, the correction an annotator wrote for a wrong step.
    corrections: dict[str, dict[int, str]] = field(default_factory=dict)
    label: Judgment | None = None
    label_source: str | None = None
    #: Human judgments on the trace with a first error, and the share of them that agree with the majority.
    humans: int = 0
    agreement: float | None = None
    #: The humans chose different first errors; and no single first error had the most votes.
    disagreement: bool = False
    tie: bool = False
    split: str = "train"
    #: The trace's identity in its project (the key of the record first imported), which a re-import matches.
    content_key: str | None = None
    #: Per critique source, whether revising with its critique helped (helpful / harmful), with --usefulness.
    usefulness: dict[str, str] = field(default_factory=dict)


class Exporter(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    #: The trainer (and its version) whose own data-loading code this shape was checked against; "" for a
    #: benchmark's or Redline's own shape.
    trainer: ClassVar[str] = ""
    #: Raw and evaluation formats keep every label as it is; training formats leave out give-ups by default.
    leaves_out_unfinished: ClassVar[bool] = True
    #: False for formats that write every trace, labelled or not.
    needs_label: ClassVar[bool] = True
    #: Formats whose records name the traces' images (as ``images/NAME``): the files are written beside them.
    writes_images: ClassVar[bool] = False
    #: The options a format reads, so the Export page offers and the dataset card names only those.
    uses_critic_prompt: ClassVar[bool] = False
    uses_step_labels: ClassVar[bool] = False
    uses_conversational: ClassVar[bool] = False
    #: Its text prompt is joined to what follows as it is (TRL's DPO and KTO, Axolotl's and TRL's PRM trainers), so
    #: it ends with ``ExportOptions.separator``.
    separates_prompt: ClassVar[bool] = False

    def uses_separator(self, options: ExportOptions) -> bool:
        """Whether the export's text prompts end with the separator (chat turns need none)."""
        return self.separates_prompt and not (self.uses_conversational and options.conversational)

    @abstractmethod
    def records_of(self, item: ExportItem, options: ExportOptions, tally: Counter) -> Iterator[dict[str, Any]]:
        """The records one trace gives (none, one or several). Add a reason to ``tally`` for each trace left out."""

    @abstractmethod
    def arrow_schema(self, options: ExportOptions) -> pa.Schema:
        """Column types, so Parquet and Hugging Face outputs are typed the same whatever the first rows hold."""

    def record_label(self, record: dict[str, Any]) -> str | None:
        """A short class for the dataset card's label distribution."""
        return None

    def records(
        self, items: Iterable[ExportItem], options: ExportOptions, tally: Counter | None = None
    ) -> Iterator[dict[str, Any]]:
        tally = Counter() if tally is None else tally
        for item in items:
            yield from self.records_of(item, options, tally)
