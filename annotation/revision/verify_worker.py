"""math-verify in a process of its own: ``python -m annotation.revision.verify_worker``.

math-verify's timeouts use ``signal.alarm``, which works only in a process's main thread; the app grades from
threads (Streamlit's, a run's). Here the grading runs in this process's main thread, so math-verify's own
timeouts hold, and the parent can kill the process if one ever does not (annotation.revision.grading).

Protocol: one JSON object a line on stdin, ``{"pairs": [[answer, reference], ...], "timeout_s": T}``; back, one
line per pair as soon as it is graded, ``{"result": [correct, how], "cpu_s": S}`` where ``cpu_s`` is this
process's CPU time so far (and one ``{"ready": true, ...}`` line at start). The protocol has stdout to itself:
anything else printed (by this process, a library, or C code) goes to stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import TextIO

# Answers and references come back again and again (the same original answer in every run and show, a problem's
# reference for each of its solutions): what was settled is kept, a few MB at most. A "wrong" that took half a
# timeout or more is not: math-verify turns its own timeouts into "wrong" (or "unreadable"), and under load a
# pair may time out that would not next time.
_KEPT = 50_000
_graded: dict[tuple[str, str], tuple[bool, str]] = {}
_parsed_references: dict[str, list] = {}


def _parse(text: str, timeout_s: int) -> list:
    from math_verify import parse

    from annotation.revision.answers import for_math

    return parse(f"\\boxed{{{for_math(text)}}}", parsing_timeout=timeout_s)


def _reference(reference: str, timeout_s: int) -> list:
    gold = _parsed_references.get(reference)
    if gold is None:
        gold = _parse(reference, timeout_s)  # a parse that timed out is empty: not kept
        if gold and len(_parsed_references) < _KEPT:
            _parsed_references[reference] = gold
    return gold


def verify_pair(answer: str, reference: str, timeout_s: int) -> tuple[bool, str]:
    from math_verify import verify

    known = _graded.get((answer, reference))
    if known is not None:
        return known
    started = time.monotonic()
    try:
        gold = _reference(reference, timeout_s)
        target = _parse(answer, timeout_s)
        if not gold or not target:
            result = (False, "math-verify: unreadable")
        else:
            result = (bool(verify(gold, target, timeout_seconds=timeout_s)), "math-verify")
    except Exception as e:  # math-verify's TimeoutException among others: that answer is wrong, the rest go on
        return False, f"math-verify: {type(e).__name__}"
    if len(_graded) < _KEPT and (result[0] or time.monotonic() - started < timeout_s / 2):
        _graded[(answer, reference)] = result
    return result


def protocol_output() -> TextIO:
    """The protocol's own stream (a copy of stdout); stdout itself, and sys.stdout, then lead to stderr."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _send(out: TextIO, message: dict) -> None:
    out.write(json.dumps({**message, "cpu_s": time.process_time()}) + "\n")
    out.flush()


def main() -> int:
    out = protocol_output()
    # math-verify warns on every call that times out or fails to parse; the parent records the outcome itself.
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    import math_verify  # noqa: F401  (imported once, before the first request)

    _send(out, {"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        timeout_s = int(request.get("timeout_s") or 5)
        for a, r in request["pairs"]:
            _send(out, {"result": verify_pair(a, r, timeout_s)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
