"""Graders: exact match, math-verify in its worker process (on the answers real data carries), and an LLM."""

import asyncio
import sys
import threading
import time

import pytest

from annotation.core.model import InvalidValue
from annotation.revision import grading
from annotation.revision.grading import (
    CANCELLED,
    Grade,
    Grader,
    MathVerifyGrader,
    ToGrade,
    VerifyWorker,
    check_grader,
)


def grade(grader, pairs):
    return asyncio.run(grader.grade([ToGrade(a, r) for a, r in pairs]))


def test_exact_match_after_normalising():
    grades = grade(Grader(), [("(B)", "B"), ("12", "13"), (None, "1"), ("  ", "1"), ("1,000", "1000")])
    assert grades == [
        Grade(True, "exact"),
        Grade(False, "exact"),
        Grade(False, "no answer"),
        Grade(False, "no answer"),
        Grade(True, "exact"),
    ]


def test_graders_are_named_as_typed():
    assert check_grader(" math-verify ") == "math-verify" and check_grader("critic: judge") == "critic:judge"
    with pytest.raises(InvalidValue, match="math-verify, exact or critic:NAME"):
        check_grader("sympy")


# (answer, reference, right?): plain numbers, fractions, LaTeX in \boxed, units, and what is not the same.
REAL_ANSWERS = [
    ("-2116", "-2116", True),
    ("1244", "-2116", False),
    ("0.5", "\\frac{1}{2}", True),
    ("\\dfrac{2}{4}", "1/2", True),
    ("3\\sqrt{2}", "\\sqrt{18}", True),
    ("\\boxed{\\frac{\\pi}{2}}", "\\pi/2", True),
    ("18 dollars", "18", True),
    ("2\\text{ cm}", "2", True),
    ("\\$18", "18", True),
    ("90^\\circ", "90", True),
    ("50\\%", "0.5", True),
    ("x = 3", "3", True),
    ("\\{1, 2\\}", "\\{2, 1\\}", True),
    ("\\frac{1}{3}", "0.34", False),
    ("\\frac{1}{3}", "0.333333", True),  # math-verify rounds decimals to 6 places
    ("7/2", "\\frac{14}{4}", True),
    ("(A)", "(A)", True),
    ("(A)", "(B)", False),
    # A unit is a word after a space, not a variable or a constant of mathematics.
    ("2x", "2", False),
    ("2", "2x", False),
    ("3 pi", "3", False),
    ("3", "3 pi", False),
    ("5 i", "5", False),
    ("5 cm", "5", True),
    ("12 dollars", "12", True),
    ("12", "12 dollars", True),
]


def test_math_verify_on_the_answers_real_data_carries():
    grader = MathVerifyGrader()
    try:
        grades = grade(grader, [(a, r) for a, r, _ in REAL_ANSWERS])
    finally:
        grader.close()
    wrong = [(a, r, g) for (a, r, right), g in zip(REAL_ANSWERS, grades, strict=True) if g.correct != right]
    assert wrong == []
    hows = [g.how for g in grades]
    assert hows[:5] == ["exact", "number", "number", "number", "math-verify"]
    assert grader.cpu_s > 0  # the worker said how much CPU it used


def test_math_verify_grades_from_a_thread_where_its_signals_cannot():
    """Streamlit and runs grade from threads; math-verify's own timeout works only in a main thread."""
    grader, out = MathVerifyGrader(), []
    worker = threading.Thread(target=lambda: out.extend(grade(grader, [("3\\sqrt{2}", "\\sqrt{18}")])))
    try:
        worker.start()
        worker.join(120)
    finally:
        grader.close()
    assert out == [Grade(True, "math-verify")]


def test_a_grader_asks_about_one_pair_once(monkeypatch):
    grader, asked = MathVerifyGrader(), []

    async def settle(items):
        asked.extend(items)
        return [Grade(True, "math-verify") for _ in items]

    monkeypatch.setattr(grader, "settle", settle)
    grade(grader, [("\\sqrt{4}", "2"), ("\\sqrt{4}", "2"), ("7", "7"), ("0.5", "\\frac12")])
    grade(grader, [("\\sqrt{4}", "2")])
    assert asked == [ToGrade("\\sqrt{4}", "2")]


def test_a_worker_silent_past_our_limit_is_killed_and_started_again():
    worker = VerifyWorker()
    try:
        worker._start()
        first = worker._proc
        assert worker._read(0.05) is None  # nothing asked, so nothing comes: our limit passes
        assert worker._proc is None and first.poll() is not None
        assert worker.verify([("\\frac{1}{2}", "0.5")]) == [Grade(True, "math-verify")]
    finally:
        worker.close()


def patched_worker(body: str) -> list[str]:
    """The real worker, with verify_pair replaced by ``body`` (a function of answer, reference, timeout_s)."""
    code = f"import time, annotation.revision.verify_worker as w\nreal = w.verify_pair\n{body}\nw.main()"
    return [sys.executable, "-c", code]


def test_stray_output_of_the_worker_does_not_stop_grading():
    # A library that prints (Python or C) in the worker: it goes to stderr, not into the replies.
    noisy = patched_worker(
        "def verify_pair(a, r, t):\n"
        "    print('a library talking')\n"
        "    import os; os.write(1, b'C code talking\\n')\n"
        "    return real(a, r, t)\n"
        "w.verify_pair = verify_pair"
    )
    worker = VerifyWorker(command=noisy)
    try:
        assert worker.verify([("\\frac{1}{2}", "0.5"), ("3\\sqrt{2}", "\\sqrt{19}")]) == [
            Grade(True, "math-verify"),
            Grade(False, "math-verify"),
        ]
    finally:
        worker.close()


def test_lines_that_are_not_the_protocols_are_skipped(tmp_path):
    fake = tmp_path / "fake_worker.py"
    fake.write_text(
        "import json, sys\n"
        "print('warming up', flush=True)\n"
        "print(json.dumps({'ready': True, 'cpu_s': 0}), flush=True)\n"
        "for line in sys.stdin:\n"
        "    for a, r in json.loads(line)['pairs']:\n"
        "        print('[1, 2]')\n"
        "        print('noise {', flush=True)\n"
        "        print(json.dumps({'result': [a == r, 'fake'], 'cpu_s': 0.5}), flush=True)\n"
    )
    worker = VerifyWorker(command=[sys.executable, str(fake)])
    try:
        assert worker.verify([("1", "1"), ("1", "2")]) == [Grade(True, "fake"), Grade(False, "fake")]
        assert worker.cpu_s == 0.5
    finally:
        worker.close()


SLEEPY = "w.verify_pair = lambda a, r, t: (time.sleep(float(a)), (True, 'slept'))[1]"


def test_a_pair_may_take_three_of_math_verifys_timeouts_and_one_past_our_limit_is_alone_wrong(monkeypatch):
    """Two parses and a comparison, each with its own timeout: a pair past two of them is still graded; one past
    our limit is graded wrong (timeout) and the rest of the request goes to a new worker."""
    monkeypatch.setattr(grading, "SLACK_S", 0.3)
    worker = VerifyWorker(timeout_s=1, command=patched_worker(SLEEPY))
    try:
        assert worker.pair_limit_s == pytest.approx(3.3)
        grades = worker.verify([("2.5", "x"), ("60", "x"), ("0", "x")])
    finally:
        worker.close()
    assert grades == [Grade(True, "slept"), Grade(False, "timeout"), Grade(True, "slept")]


def test_cancel_stops_waiting_for_the_worker():
    worker, stop = VerifyWorker(command=patched_worker(SLEEPY)), threading.Event()
    try:
        worker.verify([("0", "x")])  # started
        threading.Timer(0.5, stop.set).start()
        started = time.monotonic()
        grades = worker.verify([("0", "x"), ("600", "x"), ("0", "x")], stop)
        waited = time.monotonic() - started
    finally:
        worker.close()
    assert grades == [Grade(True, "slept"), CANCELLED, CANCELLED]
    assert waited < 2 and not grades[1].graded


def test_graders_share_the_process_worker_and_count_only_their_own_cpu():
    first, second = MathVerifyGrader(), MathVerifyGrader()
    assert first.worker is second.worker is grading.shared_worker()
    grade(first, [("2^{2} \\cdot 7", "28")])
    first.close()  # a run's end leaves the process's worker running for the next
    assert first.worker._proc is not None and first.worker._proc.poll() is None
    assert grade(second, [("2^{2} \\cdot 9", "36")]) == [Grade(True, "math-verify")]
    assert 0 < second.cpu_s < first.worker.cpu_s  # its pair's share, not the worker's start nor the first pair


def test_the_worker_keeps_what_it_settled_but_not_a_slow_wrong(monkeypatch):
    """math-verify turns its own timeouts into "unreadable" or "wrong": a wrong that took half a timeout or more may
    be one, so it is asked again next time; a right one, or a quick wrong, is kept."""
    from annotation.revision import verify_worker

    calls = []
    real = verify_worker._parse

    def parse(text, timeout_s):
        calls.append(text)
        if text == "\\sqrt{-}":
            time.sleep(0.6)  # as math-verify's parse timing out: an empty result after a while
            return []
        return real(text, timeout_s)

    monkeypatch.setattr(verify_worker, "_parse", parse)
    monkeypatch.setattr(verify_worker, "_graded", {})
    monkeypatch.setattr(verify_worker, "_parsed_references", {})
    assert verify_worker.verify_pair("\\frac{6}{2}", "3", 5) == (True, "math-verify")
    assert verify_worker.verify_pair("\\frac{6}{2}", "3", 5) == (True, "math-verify")
    assert verify_worker.verify_pair("2 + 1", "3", 5) == (True, "math-verify")
    assert verify_worker.verify_pair("2 + 2", "3", 5) == (False, "math-verify")
    assert verify_worker.verify_pair("2 + 2", "3", 5) == (False, "math-verify")
    assert calls == ["3", "\\frac{6}{2}", "2 + 1", "2 + 2"]  # each pair once, the reference once
    assert verify_worker.verify_pair("\\sqrt{-}", "3", 1) == (False, "math-verify: unreadable")
    assert verify_worker.verify_pair("\\sqrt{-}", "3", 1) == (False, "math-verify: unreadable")
    assert calls[-2:] == ["\\sqrt{-}", "\\sqrt{-}"]  # asked again: it may not time out twice


def test_a_worker_that_died_while_idle_is_replaced():
    import os
    import signal

    worker = VerifyWorker()
    try:
        assert worker.verify([("\\frac{1}{2}", "0.5")]) == [Grade(True, "math-verify")]
        dead = worker._proc
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait(10)
        assert worker.verify([("\\frac{1}{4}", "0.25")]) == [Grade(True, "math-verify")]
        assert worker._proc is not dead
    finally:
        worker.close()


def test_a_run_cancelled_while_another_grades_stops_waiting_and_leaves_the_worker_alone():
    worker, stop = VerifyWorker(command=patched_worker(SLEEPY)), threading.Event()
    try:
        worker.verify([("0", "x")])  # started
        proc = worker._proc
        other = threading.Thread(target=worker.verify, args=([("2", "x")],))
        other.start()
        time.sleep(0.3)  # the other run holds the worker for 2 s
        threading.Timer(0.3, stop.set).start()
        started = time.monotonic()
        grades = worker.verify([("0", "x")], stop)
        waited = time.monotonic() - started
        other.join(10)
        assert grades == [CANCELLED] and waited < 1.2
        assert worker._proc is proc and proc.poll() is None  # not killed: it was not grading for this run
        stop.set()
        assert worker.verify([("0", "x")], stop) == [CANCELLED] and worker._proc is proc
    finally:
        worker.close()
