"""Reason agreement through an LLM judge, answered by litellm's mock_response: never the internet."""

import pytest
from sqlmodel import select

from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.critics.reason_agreement import judge_reasons, parse_verdict, reason_accuracy, reason_jobs
from storage import queries
from storage.db import session
from storage.tables import ReasonVerdict, utcnow

HUMAN, MODEL = "human:ann", "model:critic"


@pytest.fixture
def project(sqlite_engine):
    with session(sqlite_engine) as s, s.begin():
        p = queries.create_project(s, name="p")
        rows = [
            {"project_id": p.id, "position": i, "content_key": f"k{i}", "problem": f"{i}+{i}?",
             "steps": [f"{i}+{i} = {2 * i + 1}", "done"], "n_steps": 2, "meta": {}}
            for i in range(4)
        ]  # fmt: skip
        ids = queries.insert_traces(s, rows=rows)
        now = utcnow()
        h = Source("human", "ann")
        m = Source("model", "critic")
        judgments = [
            # 0: same step, both explain -> judged
            Judgment(h, first_error=0, steps=[StepLabel(-1, "off by one")]),
            Judgment(m, first_error=0, critique="the sum is one too many"),
            # 1: different steps -> not judged, counts against accuracy
            Judgment(h, first_error=0, critique="wrong sum"),
            Judgment(m, first_error=1, critique="step 2"),
            # 2: human says no error -> not a flawed solution
            Judgment(h, first_error=-1),
            Judgment(m, first_error=-1),
            # 3: same step, judged, different reason
            Judgment(h, first_error=0, critique="misread the question"),
            Judgment(m, first_error=0, critique="arithmetic"),
        ]
        queries.insert_judgments(
            s, rows=[judgment_row(j, trace_id=ids[i // 2], now=now) for i, j in enumerate(judgments)]
        )
    return sqlite_engine, ids


def test_parse_verdict():
    assert parse_verdict("Thinking...\nVERDICT: SAME") is True
    assert parse_verdict("verdict: **different**") is False
    assert parse_verdict("I am not sure") is None


def test_jobs_are_the_traces_where_both_flag_the_same_step(project):
    engine, ids = project
    jobs = reason_jobs(engine, "p", HUMAN, MODEL)
    assert [j.trace_id for j in jobs] == [ids[0], ids[3]]
    assert jobs[0].human_reason == "off by one" and jobs[0].model_reason == "the sum is one too many"
    assert "Both reviewers say the first wrong step is step 1." in jobs[0].prompt()


def test_judge_stores_verdicts_and_accuracy_counts_every_flawed_solution(project):
    engine, ids = project
    asked = judge_reasons(
        engine, "p", human=HUMAN, model=MODEL, judge="gpt-4o-mini", options={"mock_response": "VERDICT: SAME"}
    )
    assert asked == 2
    # Already judged: not asked again.
    assert (
        judge_reasons(engine, "p", human=HUMAN, model=MODEL, judge="gpt-4o-mini", options={"mock_response": "x"}) == 0
    )
    with session(engine) as s, s.begin():
        last = s.exec(select(ReasonVerdict).where(ReasonVerdict.trace_id == ids[3])).one()
        last.same = False
    result = reason_accuracy(engine, "p", human=HUMAN, model=MODEL, judge="gpt-4o-mini")
    # flawed by the human: traces 0, 1, 3; step and reason right: trace 0 only.
    assert result == {"n_flawed": 3, "judged": 2, "same": 1, "accuracy_reason": pytest.approx(100 / 3)}


def test_the_metrics_command_asks_a_judge_over_http_and_reports_accuracy_reason(project, monkeypatch, capsys):
    import json

    from annotation.cli.main import main
    from tests.utils.openai_stub import OpenAIStub

    engine, _ = project
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    with OpenAIStub("Both name an arithmetic slip.\nVERDICT: SAME").start() as stub:
        args = ["metrics", "--project", "p", "--a", MODEL, "--b", HUMAN, "--json", "--bootstrap", "0"]
        code = main([*args, "--reason-judge", "openai/stub-judge", "--reason-api-base", stub.api_base])
        assert stub.requests == 2  # the two traces where both flag the same step
    assert code == 0
    reason = json.loads(capsys.readouterr().out)["reason"]
    # Three flawed solutions (the human found an error); the judge says "same" on the two it saw.
    assert reason == {"n_flawed": 3, "judged": 2, "same": 2, "accuracy_reason": pytest.approx(200 / 3)}
    assert main([*args[:4], HUMAN, "--b", MODEL, "--reason-judge", "x"]) == 2
