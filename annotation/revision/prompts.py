"""What a reviser is sent: the problem, the steps, and as much of a critique as the run shows (VISCO's ablation).

- ``verdict``: only whether the solution is right or wrong;
- ``first-error``: the first wrong step (or that every step is right);
- ``full``: the verdict, the first error, each step's verdict and explanation, and the overall critique;
- ``none``: no critique at all (plain self-refinement, the baseline).

Steps are numbered as people count them (Step 1, ...), and so is every step a critique names. The request's hash
(the reviser's configuration and the exact messages) is what makes a second run send nothing new.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from annotation.core.model import NO_ERROR, VERDICT_NAMES, Judgment, Trace
from annotation.critics.templates import problem_text, with_images

SHOWS = ("verdict", "first-error", "full", "none")
NO_CRITIQUE = "none"  # the baseline: revised without a critique, so it says nothing of one's usefulness
SHOW_TITLES = {
    "verdict": "the verdict only",
    "first-error": "the first wrong step",
    "full": "the full critique",
    "none": "no critique (self-refinement)",
}

WITH_REVIEW = (
    "Below are a problem, a step-by-step solution to it, and a review of that solution. Revise the solution using "
    "the review: keep what is right, correct what is wrong, and solve the problem to the end."
)
WITHOUT_REVIEW = (
    "Below are a problem and a step-by-step solution to it. Check the solution and revise it: keep what is right, "
    "correct what is wrong, and solve the problem to the end."
)
ENDING = "Write the revised solution step by step, and end with one line: Final answer: \\boxed{ANSWER}"


def says_wrong(judgment: Judgment) -> bool:
    """The critique's verdict on the solution: its solution verdict when it gave one, else whether it found an error."""
    if judgment.solution_correct is not None:
        return not judgment.solution_correct
    return judgment.first_error is not None and judgment.first_error != NO_ERROR


def _first_error_line(judgment: Judgment) -> str:
    fe = judgment.first_error
    if fe is not None and fe >= 0:
        return f"The first wrong step is step {fe + 1}."
    if says_wrong(judgment):
        return "No step is marked wrong, but the final answer is wrong."
    return "Every step is correct."


def review_text(judgment: Judgment, show: str) -> str:
    """The critique as the reviser reads it, for ``show`` (not ``none``)."""
    verdict = "The solution is wrong." if says_wrong(judgment) else "The solution is correct."
    if show == "verdict":
        return verdict
    if show == "first-error":
        return _first_error_line(judgment)
    lines = [verdict, _first_error_line(judgment)]
    for i, label in enumerate(judgment.steps):
        said = VERDICT_NAMES.get(label.verdict) if label.verdict is not None else None
        note = (label.critique or "").strip()
        if said or note:
            lines.append(f"Step {i + 1}: {said or 'no verdict'}." + (f" {note}" if note else ""))
    if judgment.critique and judgment.critique.strip():
        lines.append(f"Overall: {judgment.critique.strip()}")
    return "\n".join(lines)


# Where a stored image goes in a request until it is sent (annotation.revision.store.fill_images): the request's
# hash is of the image's name, which is its content's hash, not of megabytes of data, and a run holds no image.
IMAGE_PLACEHOLDER = "redline-image:"


def revision_messages(
    trace: Trace, judgment: Judgment | None, show: str, images: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """``images``: name -> URL of the trace's images the reviser is shown (a reviser that sees images)."""
    steps = "\n".join(f"Step {i + 1}: {s}" for i, s in enumerate(trace.steps))
    blocks = [WITHOUT_REVIEW if show == "none" else WITH_REVIEW, f"[Problem]\n{problem_text(trace)}"]
    blocks.append(f"[Solution]\n{steps}")
    if show != "none":
        assert judgment is not None
        blocks.append(f"[Review]\n{review_text(judgment, show)}")
    blocks.append(ENDING)
    return [{"role": "user", "content": with_images("\n\n".join(blocks), trace, images, task="work from")}]


def request_hash(reviser_hash: str, messages: list[dict[str, Any]]) -> str:
    blob = json.dumps({"reviser": reviser_hash, "messages": messages}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
