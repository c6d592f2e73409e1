"""Key sequences a fast annotator types, and the labels each must store: the judging surface's rules, in Python.

A sequence moves the cursor (J, K, F) and gives verdicts (1, 2, 3) as pages/judging/judge.js does, then ends
with F and 3 (so the trace has a first error to submit) and Ctrl+Enter. ``expected`` replays it with
annotation.workflow.labelling, the rules the server applies, so a benchmark or a test can compare what was
stored with what the keys meant.
"""

from __future__ import annotations

import random

from annotation.workflow.labelling import CORRECT, NEUTRAL, WRONG, WorkingCopy

MODE = "first_error"
VERDICT_KEYS = {"1": CORRECT, "2": NEUTRAL, "3": WRONG}
MOVES = ("j", "k", "f")


def replay(n_steps: int, keys: list[str]) -> WorkingCopy:
    work, cursor = WorkingCopy.blank(n_steps), 0
    for key in keys:
        if key in VERDICT_KEYS:
            if cursor in work.greyed(MODE):
                continue  # the page refuses a verdict on a step after the first error
            verdict = VERDICT_KEYS[key]
            work = work.with_verdict(cursor, verdict, MODE)
            if verdict != WRONG and cursor < n_steps - 1:
                cursor += 1
        elif key == "j":
            cursor = min(n_steps - 1, cursor + 1)
        elif key == "k":
            cursor = max(0, cursor - 1)
        elif key == "f":
            first = work.first_wrong()
            cursor = cursor if first is None else first
    return work


def expected(n_steps: int, keys: list[str]) -> tuple[int | None, list[int | None]]:
    """The first error and the step verdicts stored for ``keys`` (a sequence ending in Ctrl+Enter)."""
    content = replay(n_steps, [k for k in keys if k != "Control+Enter"]).content(MODE)
    return content["first_error"], [s["verdict"] for s in content["steps"]]


def random_sequence(rng: random.Random, n_steps: int) -> list[str]:
    length = rng.randint(2, 10)
    keys = [rng.choice(["1", "1", "2", "3", "j", "k", "f"]) for _ in range(length)]
    return [*keys, "f", "3", "Control+Enter"]
