"""Revision runs against an OpenAI-compatible stub on 127.0.0.1 whose answers are planned per problem."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from annotation.accounts.users import Account
from annotation.core.model import InvalidValue
from annotation.judgments.visibility import ProjectView
from annotation.revision.report import load_results, report_for
from annotation.revision.runs import NotAllowed, RevisionPlan, cancel_run, revision_history, run_revision
from storage.db import session
from storage.tables import RevisionResult, RevisionRun, utcnow
from tests.utils.critic_data import stub_critic
from tests.utils.openai_stub import OpenAIStub, by_problem, prompt_text
from tests.utils.revision_data import reviser_plan


def plan(engine, api_base, critiques="reference", **changes) -> RevisionPlan:
    reviser = stub_critic(engine, api_base, name="reviser")
    return RevisionPlan(project="revise", critiques=critiques, reviser=reviser, **changes)


def results(engine) -> list[RevisionResult]:
    with session(engine) as s:
        return list(s.exec(select(RevisionResult).order_by(RevisionResult.trace_id, RevisionResult.critique_source)))


def figures(engine, source="reference", show="full", grader="math-verify") -> dict:
    frame = load_results(engine, "revise", ProjectView.admin(), grader=grader)
    return report_for(frame, source, show).as_dict()


def test_a_run_revises_every_judged_trace_and_grades_both_answers(sqlite_engine, project):
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        p = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base), concurrency=3)

    assert (p.status, p.total, p.done, p.failed, p.no_reference, p.no_answer) == ("done", 6, 6, 0, 1, 1)
    assert stub.requests == 6
    assert p.cost > 0 and p.prompt_tokens > 0 and p.completion_tokens > 0
    rows = results(sqlite_engine)
    assert [(r.original_correct, r.revised_correct) for r in rows] == [
        (True, True),
        (True, False),
        (True, True),
        (False, True),
        (False, False),
        (False, False),
    ]
    assert rows[3].revised_answer == "12" and "Fixing step 2" in rows[3].revised_text
    assert rows[5].revised_answer is None and rows[5].extra["graded"]["revised"] == "no answer"
    assert rows[0].extra["tokens"]["prompt"] > 0 and rows[0].extra["cost"] > 0 and rows[0].grader == "math-verify"
    # By hand: 3 wrong (1 fixed), 3 right (1 broken); accuracy 50% before and after.
    d = figures(sqlite_engine)
    assert {k: d[k] for k in ("n", "n_wrong_before", "n_right_before", "fixed", "broken", "no_answer")} == {
        "n": 6,
        "n_wrong_before": 3,
        "n_right_before": 3,
        "fixed": 1,
        "broken": 1,
        "no_answer": 1,
    }
    assert (d["fix_rate"], d["break_rate"], d["accuracy_before"], d["accuracy_after"]) == (33.3, 33.3, 50.0, 50.0)
    run = revision_history(sqlite_engine)[0]
    assert (run.status, run.total, run.done, run.no_reference, run.critiques) == ("done", 6, 6, 1, "reference")
    assert run.cost == pytest.approx(p.cost) and run.tokens > 0


def test_the_reviser_reads_what_the_run_shows(sqlite_engine, project):
    prompts: dict[str, dict[int, str]] = {}

    def remember(show):
        def answer(body):
            text = prompt_text(body)
            prompts.setdefault(show, {})[int(re.search(r"What is (\d+) \+", text).group(1))] = text
            return "Final answer: \\boxed{0}"

        return answer

    for show in ("verdict", "first-error", "full", "none"):
        with OpenAIStub(remember(show)) as stub:
            run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, "human:alice", show=show, limit=4))
    wrong = prompts["full"][3]  # trace 3: alice says step 2 is wrong, and why
    assert "[Review]\nThe solution is wrong.\nThe first wrong step is step 2.\nStep 1: correct. Fine." in wrong
    assert "Step 2: wrong. Doubling is wrong." in wrong
    assert prompts["verdict"][3].split("[Review]\n")[1].startswith("The solution is wrong.\n\nWrite the revised")
    assert "[Review]\nThe first wrong step is step 2.\n\n" in prompts["first-error"][3]
    assert "[Review]\nEvery step is correct." in prompts["first-error"][0]
    assert all("[Review]" not in text and "Check the solution" in text for text in prompts["none"].values())
    assert all(text.endswith("Final answer: \\boxed{ANSWER}") for texts in prompts.values() for text in texts.values())


def test_a_second_run_with_the_same_configuration_sends_nothing(sqlite_engine, project):
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base))
        again = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base))
        assert stub.requests == 6
        assert (again.done, again.skipped, again.cached) == (0, 6, 0)
        # Another grader grades the stored replies again: still no request.
        regraded = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, grader="exact"))
        assert stub.requests == 6 and (regraded.done, regraded.cached) == (0, 6)
    # Each grader's results are kept apart: the regrade added its own, the first ones are as they were.
    graders = [r.grader for r in results(sqlite_engine)]
    assert graders.count("exact") == 6 and graders.count("math-verify") == 6
    assert figures(sqlite_engine, grader="exact")["fixed"] == 1 and figures(sqlite_engine)["n"] == 6


def test_the_same_request_for_several_sources_is_sent_once(sqlite_engine, project):
    """Without a critique, alice's and bob's revisions of a trace are one request (and so is the reference's)."""
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        p = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, "human:*", show="none"))
        assert (p.total, stub.requests) == (9, 6)
        run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, "reference", show="none"))
        assert stub.requests == 6
    assert figures(sqlite_engine, "human:*", "none")["n"] == 9
    assert figures(sqlite_engine, "human:bob", "none")["n"] == 3


def test_a_failed_request_is_counted_left_out_and_sent_again_next_time(sqlite_engine, project):
    failing = [True]

    def fail_trace_4(body):
        return 500 if failing[0] and "What is 4 +" in prompt_text(body) else None

    with OpenAIStub(by_problem(reviser_plan()), fail_when=fail_trace_4) as stub:
        p = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base), backoff_base_s=0.01)
        assert (p.status, p.failed, p.done) == ("done", 1, 6)
        failed = [r for r in results(sqlite_engine) if r.status == "failed"]
        assert len(failed) == 1 and "after 3 attempt(s)" in failed[0].extra["error"]
        d = figures(sqlite_engine)
        assert (d["n"], d["failed"]) == (5, 1)
        failing[0], sent = False, stub.requests
        again = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base))
        assert (stub.requests - sent, again.done, again.skipped, again.failed) == (1, 1, 5, 0)
    assert figures(sqlite_engine)["n"] == 6


def test_cancel_keeps_what_was_stored(sqlite_engine, project):
    cancel = threading.Event()
    with OpenAIStub(by_problem(reviser_plan()), delay_s=0.3) as stub:
        seen = []

        def progress(p):
            seen.append(p.finished)
            if p.finished:
                cancel.set()

        p = run_revision(
            sqlite_engine, plan(sqlite_engine, stub.api_base), concurrency=1, cancel=cancel, progress=progress
        )
    assert p.status == "cancelled" and 0 < p.done < 6
    with session(sqlite_engine) as s:
        assert s.get(RevisionRun, p.run_id).status == "cancelled"
    assert len(results(sqlite_engine)) == p.done
    assert not cancel_run(sqlite_engine, p.run_id)  # no longer running


def test_cancel_through_the_run_row_from_elsewhere(sqlite_engine, project):
    """Another process (the CLI, another server) cancels through the revision run's own row, not a critic run's."""
    started = threading.Event()
    run_ids = []

    def on_start(p):
        run_ids.append(p.run_id)
        started.set()

    def canceller():
        started.wait(10)
        assert cancel_run(sqlite_engine, run_ids[0])

    with OpenAIStub(by_problem(reviser_plan()), delay_s=1.0) as stub:
        thread = threading.Thread(target=canceller)
        thread.start()
        p = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base), concurrency=1, on_start=on_start)
        thread.join()
    assert p.status == "cancelled" and p.done < 6
    with session(sqlite_engine) as s:
        assert s.get(RevisionRun, p.run_id).status == "cancelled"


def test_cancel_stops_grading_under_way_and_keeps_the_replies_ungraded(sqlite_engine, project):
    """math-verify stuck on an answer: cancel does not wait for it; the replies are kept, graded next time."""
    import sys

    from annotation.revision.grading import MathVerifyGrader, VerifyWorker

    replies = {problem: "Final answer: \\boxed{\\sqrt{16}}" for problem in reviser_plan()}  # only math-verify decides
    stuck = MathVerifyGrader()
    hang = (
        "import time, annotation.revision.verify_worker as w\nw.verify_pair = lambda a, r, t: time.sleep(600)\nw.main()"
    )
    stuck.worker = VerifyWorker(command=[sys.executable, "-c", hang])
    cancel = threading.Event()
    with OpenAIStub(by_problem(replies)) as stub:
        threading.Timer(3.0, cancel.set).start()
        started = time.monotonic()
        p = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base), cancel=cancel, grader=stuck)
        waited = time.monotonic() - started
        assert p.status == "cancelled" and waited < 10
        rows = results(sqlite_engine)
        assert len(rows) == 6 and {r.status for r in rows} == {"ungraded"} and p.ungraded == 6
        assert all(r.revised_text and r.extra["graded"]["revised"] == "cancelled" for r in rows)
        assert figures(sqlite_engine)["n"] == 0
        sent = stub.requests
        again = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base))
        assert stub.requests == sent and (again.cached, again.ungraded) == (6, 0)
    assert [r.revised_correct for r in results(sqlite_engine)] == [False, True, False, False, False, False]


def test_only_admins_start_runs_and_bad_input_is_named(sqlite_engine, project):
    annotator = Account(username="ann", role="annotator")
    reviser = plan(sqlite_engine, "http://127.0.0.1:9/v1")
    with pytest.raises(NotAllowed):
        run_revision(sqlite_engine, reviser, account=annotator)
    named = r"no judgments from human:carol in 'revise' "
    named += r"\(sources: human:alice, human:bob, model:critic, reference, human:\*\)"
    with pytest.raises(InvalidValue, match=named):
        run_revision(sqlite_engine, plan(sqlite_engine, "http://127.0.0.1:9/v1", "human:carol"))
    with pytest.raises(InvalidValue, match="'everything' is not one of verdict, first-error, full, none"):
        run_revision(sqlite_engine, plan(sqlite_engine, "http://127.0.0.1:9/v1", show="everything"))
    with pytest.raises(InvalidValue, match="critic:NAME"):
        run_revision(sqlite_engine, plan(sqlite_engine, "http://127.0.0.1:9/v1", grader="sympy"))
    with pytest.raises(InvalidValue, match="no saved critic named 'judge'"):
        run_revision(sqlite_engine, plan(sqlite_engine, "http://127.0.0.1:9/v1", grader="critic:judge"))


def test_a_grader_is_stored_as_normalised(sqlite_engine, project):
    assert plan(sqlite_engine, "http://127.0.0.1:9/v1", grader=" exact ").validate().grader == "exact"
    assert plan(sqlite_engine, "http://127.0.0.1:9/v1", grader="critic: judge").validate().grader == "critic:judge"
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, grader=" exact "))
        again = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, grader="exact"))
    assert {r.grader for r in results(sqlite_engine)} == {"exact"} and revision_history(sqlite_engine)[
        0
    ].grader == "exact"
    assert again.skipped == 6 and stub.requests == 6  # the same grader: nothing graded again


def test_an_llm_grader_is_a_saved_critic(sqlite_engine, project):
    def answer(body):
        text = prompt_text(body)
        if "Reference answer:" in text:  # the grader: "17" is taken as the same as 16 (a lenient judge)
            return "VERDICT: SAME" if "Given answer: 17" in text else "VERDICT: DIFFERENT"
        return by_problem(reviser_plan())(body)

    with OpenAIStub(answer) as stub:
        stub_critic(sqlite_engine, stub.api_base, name="judge")
        p = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, grader="critic:judge"))
    rows = results(sqlite_engine)
    assert rows[4].revised_correct is True and rows[4].extra["graded"]["revised"] == "llm"
    assert rows[0].extra["graded"]["original"] == "exact"  # the same answer needs no judge
    assert p.status == "done" and stub.requests > 6


def test_an_answer_the_llm_grader_could_not_grade_is_left_out_counted_and_graded_next_time(sqlite_engine, project):
    judging = {"works": False}

    def answer(body):
        text = prompt_text(body)
        if "Reference answer:" in text:
            return "VERDICT: DIFFERENT" if judging["works"] else "Hard to say."  # no verdict
        return by_problem(reviser_plan())(body)

    def judge_fails(body):  # its calls about trace 4's answer (17, before and after) fail outright
        text = prompt_text(body)
        return 400 if not judging["works"] and "Given answer: 17" in text else None

    with OpenAIStub(answer, fail_when=judge_fails) as stub:
        stub_critic(sqlite_engine, stub.api_base, name="judge", retries=0)
        p = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, grader="critic:judge"))
        # Every answer that needed the judge (not the same as the reference, not missing) is ungraded, not wrong:
        # trace 1's revised answer, 3's and 5's original ones, and both of trace 4's.
        rows = results(sqlite_engine)
        assert [r.status for r in rows] == ["done", "ungraded", "done", "ungraded", "ungraded", "ungraded"]
        assert rows[4].extra["graded"] == {"original": "llm: failed", "revised": "llm: failed"}
        assert rows[3].extra["graded"] == {"original": "llm: no verdict", "revised": "exact"}
        assert rows[1].original_correct is True and rows[1].revised_correct is None
        assert (p.status, p.ungraded, p.failed) == ("done", 4, 0)
        d = figures(sqlite_engine, grader="critic:judge")
        assert (d["n"], d["fixed"], d["broken"], d["ungraded"], d["failed"]) == (2, 0, 0, 4, 0)
        assert revision_history(sqlite_engine)[0].ungraded == 4
        # The next run asks the reviser nothing, and grades again only what was not graded.
        judging["works"], sent = True, stub.requests
        again = run_revision(sqlite_engine, plan(sqlite_engine, stub.api_base, grader="critic:judge"))
        assert (again.skipped, again.cached, again.ungraded) == (2, 4, 0)
        assert stub.requests - sent == 4  # the judge only: 5, 13, 17 and 21, each against its reference
    assert [r.status for r in results(sqlite_engine)] == ["done"] * 6
    d = figures(sqlite_engine, grader="critic:judge")
    assert (d["n"], d["fixed"], d["broken"], d["ungraded"]) == (6, 1, 1, 0)


def test_a_run_left_by_a_dead_process_is_marked_interrupted(sqlite_engine, project):
    with session(sqlite_engine) as s:
        s.add(
            RevisionRun(
                project_id=1,
                critiques="reference",
                show="full",
                reviser="reviser",
                reviser_hash="h",
                grader="exact",
                filters={"process": "elsewhere:1"},
                heartbeat_at=utcnow() - timedelta(minutes=5),
            )
        )
        s.commit()
    run = revision_history(sqlite_engine)[0]
    assert run.status == "interrupted" and "running the same revision again resumes it" in run.error
