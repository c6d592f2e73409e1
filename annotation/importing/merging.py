"""Labels imported for a source that already judged the trace: merged into its judgment, never replacing it whole.

An import carries some fields of a judgment (a labels file with only a critique column carries step critiques, not
the first error or the verdicts). What it carries replaces the judgment's: a first error, a critique, a finish
reason, a corrected answer when the import gives one; a per-step column (verdicts, critiques, corrections, tags)
when the import gives it for at least one step, then for every step (a step it leaves empty becomes empty); spans
and missing entries when it has some; ``extra`` key by key. Everything else stays as the source left it: a person's
verdicts, first error, tags, time spent and status (a draft stays a draft). A judgment whose run failed holds no
labels and is replaced.

A merge that would contradict itself (a step wrong before the first error, or the first error's step called
correct, where neither side did so alone) is refused: the import then stops, naming the record, and nothing
changes.
"""

from __future__ import annotations

from dataclasses import replace

from annotation.core.model import (
    NO_ERROR,
    InvalidValue,
    Judgment,
    StepLabel,
    first_error_text,
    verdicts_against_first_error,
)

#: The per-step fields, each merged as one column.
STEP_FIELDS = ("verdict", "critique", "correction", "tags", "because_of")
#: Whole-judgment fields the import's value replaces when it has one.
SCALARS = ("first_error", "solution_correct", "critique", "finish_reason", "time_spent_s", "corrected_answer")


def _has(value: object) -> bool:
    return value is not None and value != "" and value != [] and value != ()


def carried(judgment: Judgment) -> set[str]:
    """The fields an imported judgment gives a value for: ``first_error``..., and ``steps.verdict``..."""
    found = {name for name in SCALARS if _has(getattr(judgment, name))}
    found |= {f"steps.{name}" for name in STEP_FIELDS if any(_has(getattr(s, name)) for s in judgment.steps)}
    found |= {name for name in ("spans", "missing", "extra") if getattr(judgment, name)}
    return found


def merge(existing: Judgment, incoming: Judgment, n_steps: int) -> Judgment:
    """``existing`` with the fields ``incoming`` carries; InvalidValue (naming the field) when they contradict."""
    if existing.status == "failed":
        return incoming
    fields = carried(incoming)
    merged = replace(
        existing,
        **{name: getattr(incoming, name) for name in SCALARS if name in fields},
        extra={**existing.extra, **incoming.extra},
        spans=incoming.spans if "spans" in fields else existing.spans,
        missing=incoming.missing if "missing" in fields else existing.missing,
        steps=_steps(existing.steps, incoming.steps, fields, n_steps),
    )
    if "first_error" in fields:  # whether the solution is correct goes with the first error the import gives
        merged.solution_correct = incoming.solution_correct
    clash = _contradiction(merged)
    if clash and not _contradiction(existing) and not _contradiction(incoming):
        # Then the import gives one of the two and the judgment keeps the other.
        gives, keeps = ("first_error", "verdicts") if "first_error" in fields else ("step_verdicts", "first error")
        raise InvalidValue(
            gives,
            f"{clash}, merged into the judgment {existing.source} already has on this trace, which keeps its "
            f"{keeps}; nothing was imported: give both first_error and step_verdicts in the file, or change the "
            "judgment on the Annotate page",
        )
    return merged


def _steps(old: list[StepLabel], new: list[StepLabel], fields: set[str], n_steps: int) -> list[StepLabel]:
    n = min(n_steps, max(len(old), len(new)))
    out = []
    for i in range(n):
        before = old[i] if i < len(old) else StepLabel()
        after = new[i] if i < len(new) else StepLabel()
        values = {
            name: getattr(after if f"steps.{name}" in fields else before, name)
            for name in STEP_FIELDS
            if name != "tags"
        }
        values["tags"] = list(after.tags if "steps.tags" in fields else before.tags)
        out.append(StepLabel(**values))
    while out and out[-1].is_empty() and out[-1].because_of is None:
        out.pop()
    return out


def _contradiction(j: Judgment) -> str | None:
    """How the verdicts and the first error of one judgment disagree; None when they agree."""
    verdicts = [s.verdict for s in j.steps]
    found = verdicts_against_first_error(j.first_error, verdicts)
    if found is None:
        return None
    k, early = found
    if not early:
        return f"the first error would be {first_error_text(k)}, whose verdict is {verdicts[k]:+d}"
    if j.first_error == NO_ERROR:
        return f"step {k + 1} would be wrong in a judgment that says there is no error"
    return f"step {k + 1} would be wrong before the first error, {first_error_text(j.first_error)}"
