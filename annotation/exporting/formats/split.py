"""Train/test split by problem: a problem's hash decides its side, so one problem never lands in both.

The hash is of the problem text with its whitespace normalised, so the same question imported from two
files (or solved by several generators) always goes the same way, run after run, on any machine.
"""

from __future__ import annotations

import hashlib

from annotation.core.model import InvalidValue

TRAIN = "train"
TEST = "test"
_BUCKETS = 1 << 32


def check_share(share: float | None) -> float | None:
    if share is None:
        return None
    if not 0 < share < 1:
        raise InvalidValue("split", f"the test share must lie between 0 and 1 (exclusive), got {share:g}")
    return share


def problem_key(problem: str) -> str:
    return " ".join(problem.split()).casefold()


def split_of(problem: str, test_share: float | None) -> str:
    if not test_share:
        return TRAIN
    digest = hashlib.sha256(problem_key(problem).encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:4], "big")
    return TEST if bucket < test_share * _BUCKETS else TRAIN
