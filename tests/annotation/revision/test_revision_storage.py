"""A revision run's writes and reads on SQLite and PostgreSQL alike: results kept per grader, figures, reuse."""

from __future__ import annotations

import os

from annotation.judgments.visibility import ProjectView
from annotation.revision.report import load_results, report_for
from annotation.revision.runs import RevisionPlan, run_revision
from tests.utils.critic_data import register_stub_price, stub_critic
from tests.utils.openai_stub import OpenAIStub, by_problem
from tests.utils.revision_data import make_revision_project, reviser_plan

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def test_a_run_then_a_regrade_on_both_databases(engine):
    make_revision_project(engine)
    register_stub_price()
    with OpenAIStub(by_problem(reviser_plan())) as stub:
        reviser = stub_critic(engine, stub.api_base, name="reviser")
        first = run_revision(engine, RevisionPlan("revise", "human:*", reviser), concurrency=4)
        again = run_revision(engine, RevisionPlan("revise", "human:*", reviser, grader="exact"))
        assert stub.requests == 9
    assert (first.done, again.cached, again.done) == (9, 9, 0)
    frame = load_results(engine, "revise", ProjectView.admin())
    assert len(frame) == 18 and frame["grader"].value_counts().to_dict() == {"math-verify": 9, "exact": 9}
    d = report_for(frame[frame["grader"] == "exact"], "human:*", "full").as_dict()
    assert (d["n"], d["fixed"], d["broken"], d["no_answer"]) == (9, 1, 2, 1)
