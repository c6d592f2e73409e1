"""The Compare page: headline figures, charts, the disagreement browser, adjudication, and blind projects."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from annotation.accounts.users import create_user, set_members
from annotation.core.model import Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from annotation.workflow.adjudication import consensus_of
from storage import queries
from storage.db import session
from storage.tables import Project, TraceRow, utcnow
from tests.pages.conftest import open_app
from tests.utils.surface import Surface

PAGE = "pages/compare.py"
PROJECT = "Compare me"
# label (reference), prediction (model:critic): agree, false alarm, missed, too early, too late, unparsed.
CASES = [(-1, -1), (-1, 1), (2, -1), (2, 0), (0, 2), (1, None)]


def record(i: int, label: int, prediction: int | None) -> dict:
    return {
        "id": f"gsm8k-{i}",
        "generator": "writer-<b>x</b>",
        "problem": f"Problem <i>{i}</i>: what is {i} * 2?",
        "steps": [f"Step one of {i}.", f"Step two of {i}.", f"So the answer is {2 * i} **bold**."],
        "label": label,
        "prediction": prediction,
        "generated_critique": f"critique {i} <script>",
        "match": prediction == label,
    }


@pytest.fixture
def project(db, tmp_path):
    path = tmp_path / "pred.jsonl"
    path.write_text("".join(json.dumps(record(i, *c)) + "\n" for i, c in enumerate(CASES)), encoding="utf-8")
    import_file(db, path, project=PROJECT, options=ConvertOptions(predictions_source=Source("model", "critic")))
    with session(db) as s, s.begin():
        ids = [t.id for t in s.exec(select(TraceRow).order_by(TraceRow.position))]
        now = utcnow()
        rows = []
        for tid, (label, _) in zip(ids, CASES, strict=True):
            rows.append(judgment_row(Judgment(Source("human", "ann1"), first_error=label), trace_id=tid, now=now))
        # ann2 disagrees on the first trace, with a step critique.
        steps = [StepLabel(1), StepLabel(-1, "step two is *wrong*", ["logic"])]
        rows.append(
            judgment_row(Judgment(Source("human", "ann2"), first_error=1, steps=steps), trace_id=ids[0], now=now)
        )
        rows.append(judgment_row(Judgment(Source("human", "ann2"), first_error=-1), trace_id=ids[1], now=now))
        queries.insert_judgments(s, rows=rows)
    return ids


def metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_headline_figures_for_the_model_against_the_reference(project):
    at = open_app(PAGE)

    assert at.selectbox(key="compare_project").value == PROJECT
    assert at.selectbox(key="compare_a").value == "model:critic"
    assert at.selectbox(key="compare_b").value == "reference"
    assert at.selectbox(key="compare_a").options == [
        "human:ann1",
        "human:ann2",
        "model:critic",
        "reference",
        "all humans",
    ]
    values = metric_values(at)
    # error side: labels 2, 2, 0, 1 -> none matched; correct side: -1, -1 -> one matched.
    assert values["Accuracy on B's errors"] == "0.0%"
    assert values["Accuracy on B's correct"] == "50.0%"
    assert values["ProcessBench F1"] == "0.0"
    assert values["First error exact"] == "16.7%"
    assert len(at.get("plotly_chart")) >= 3
    assert "6 pairs judged by both (4 where B has an error, 2 where it has none)" in at.caption[0].value


def test_browser_filters_by_kind_and_opens_a_trace_side_by_side(project):
    at = open_app(PAGE)
    kinds = at.multiselect(key="compare_kinds")
    assert kinds.value == ["false_alarm", "missed", "too_early", "too_late", "no_answer", "solution"]
    kinds.set_value(["missed"]).run()
    assert "1 of 5 disagreements" in [c.value for c in at.caption]
    at.selectbox(key="compare_trace").set_value(0).run()
    assert not at.exception
    view = Surface(at, key="compare_view").data()
    assert view["label_mode"] == "view"  # read-only: the surface sends nothing and takes no verdict keys
    assert "Problem &lt;i&gt;2&lt;/i&gt;: what is 2 * 2?" in view["trace"]["problem"]  # shown as written
    assert "So the answer is 4 <strong>bold</strong>." in view["trace"]["steps"][2]
    _, b = view["sides"]
    assert b["steps"][2]["verdict"] == "wrong" and b["steps"][2]["first"]  # B's view of step 3
    assert "critique 2 <script>" in [t.value for t in at.text]  # the overall critique, as written


def test_admin_settles_a_disagreement_between_annotators(project, db):
    at = open_app(PAGE)
    at.selectbox(key="compare_a").set_value("human:ann2").run()
    at.selectbox(key="compare_b").set_value("human:ann1").run()
    at.selectbox(key="compare_trace").set_value(0).run()
    sides = Surface(at, key="compare_view").data()["sides"]
    assert "step two is <em>wrong</em>" in sides[0]["steps"][1]["critique"]
    at.radio(key="compare_settle_choice").set_value("human:ann2")
    at.button(key="compare_settle").click().run()
    assert "reason" in at.error[0].value  # a reason is required
    assert consensus_of(db, project[0]) is None
    at.text_input(key="compare_settle_reason").set_value("step two <b>is</b> wrong")
    at.button(key="compare_settle").click().run()
    assert not at.exception
    judgment, version = consensus_of(db, project[0])
    assert (judgment.first_error, version) == (1, 1)
    assert judgment.extra == {
        "decided_by": "admin",
        "reason": "step two <b>is</b> wrong",
        "from": ["human:ann1", "human:ann2"],
    }
    assert judgment.steps[1].critique == "step two is *wrong*"
    at.selectbox(key="compare_trace").set_value(0).run()
    assert any("Consensus (version 1): step 2, decided by admin" in t.value for t in at.text)


def test_annotator_sees_no_settling_and_on_a_blind_project_only_own_and_models(project, db):
    create_user(db, username="ann1", password="test-password-1", role="annotator")
    set_members(db, project=PROJECT, usernames=["ann1"])
    at = open_app(PAGE, user="ann1", role="annotator")
    assert "all humans" in at.selectbox(key="compare_a").options
    at.selectbox(key="compare_trace").set_value(0).run()
    assert not at.button  # no Settle for annotators
    with session(db) as s, s.begin():
        s.exec(select(Project).where(Project.name == PROJECT)).one().blind = True
    at = open_app(PAGE, user="ann1", role="annotator")
    assert at.selectbox(key="compare_a").options == ["human:ann1", "model:critic"]
    assert at.selectbox(key="compare_b").value == "model:critic"
    assert at.selectbox(key="compare_a").value == "human:ann1"
    assert [t.label for t in at.tabs] == ["Charts", "Disagreements", "Revisions"]


def test_annotators_tab_and_an_empty_pair(project):
    at = open_app(PAGE)
    labels = metric_values(at)
    assert "Krippendorff's alpha, first error" in labels
    at.selectbox(key="compare_a").set_value("human:ann2").run()
    at.selectbox(key="compare_b").set_value("human:ann2").run()
    assert metric_values(at)["First error exact"] == "100.0%"
    at.number_input(key="compare_k").set_value(0).run()
    assert not at.exception


def test_a_project_without_judgments(db):
    with session(db) as s, s.begin():
        queries.create_project(s, name="Empty")
    at = open_app(PAGE)
    at.selectbox(key="compare_project").set_value("Empty").run()
    assert "Nothing to compare yet" in at.info[0].value


def test_admin_asks_a_judge_about_reasons_and_sees_accuracy_reason(project, db, monkeypatch):
    from tests.utils.openai_stub import OpenAIStub

    # ann3 agrees with the critic that trace 4 goes wrong at step 1, and says why.
    judged = Judgment(Source("human", "ann3"), first_error=0, critique="step one doubles the wrong number")
    with session(db) as s, s.begin():
        queries.insert_judgments(s, rows=[judgment_row(judged, trace_id=project[3], now=utcnow())])
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    at = open_app(PAGE)
    at.selectbox(key="compare_b").set_value("human:ann3").run()
    assert at.selectbox(key="compare_a").value == "model:critic"
    with OpenAIStub("Both say the doubling is wrong.\nVERDICT: SAME").start() as stub:
        at.text_input(key="compare_reason_judge").input("openai/stub-judge")
        at.text_input(key="compare_reason_api_base").input(stub.api_base)
        at.button(key="compare_reason_run").click().run()
        assert stub.requests == 1
    assert not at.exception and not at.error
    (metric,) = [m for m in at.metric if m.label == "Accuracy (reason)"]
    assert metric.value == "100.0%"

    annotator = open_app(PAGE, user="ann1", role="annotator")
    assert not [e for e in annotator.expander if e.label == "Reason agreement (LLM judge)"]


def test_an_annotator_never_sees_the_reference_of_a_quality_control_trace(project, db):
    """Finding 3: on a project that is not blind, an annotator choosing `reference` saw every QC trace's
    reference first error in the disagreement table, the trace detail and its history."""
    create_user(db, username="ann2", password="test-password-1", role="annotator")
    set_members(db, project=PROJECT, usernames=["ann2"])
    with session(db) as s, s.begin():
        first = s.exec(select(TraceRow).where(TraceRow.position == 0)).one()
        first.qc = True  # ann2's own judgment disagrees with the reference here
    at = open_app(PAGE, user="ann2", role="annotator")
    at.selectbox(key="compare_a").set_value("human:ann2").run()
    at.selectbox(key="compare_b").set_value("reference").run()

    shown = [d.value for d in at.dataframe if "B says" in d.value.columns]
    assert all(1 not in table["trace"].tolist() for table in shown)  # trace 1 is the QC trace
    # The only other pair (trace 2) agrees... so nothing of trace 1 can be opened either.
    options = at.selectbox(key="compare_trace").options if shown and len(shown[0]) else []
    assert not any(o.startswith("trace 1 ") for o in options)
    # The admin still sees it.
    admin = open_app(PAGE)
    admin.selectbox(key="compare_a").set_value("human:ann2").run()
    admin.selectbox(key="compare_b").set_value("reference").run()
    assert any(1 in d.value["trace"].tolist() for d in admin.dataframe if "B says" in d.value.columns)


def test_where_the_first_error_falls_draws_no_error_and_no_usable_answer_first(project):
    """Issue 17: on a numeric axis the "no error" and "no usable answer" bars were not drawn at all."""
    import json

    at = open_app(PAGE)
    chart = next(c for c in at.get("plotly_chart") if "first error" in c.proto.spec)
    spec = json.loads(chart.proto.spec)
    assert spec["layout"]["xaxis"]["type"] == "category"
    for bars in spec["data"]:
        assert bars["x"][:2] == ["no error", "no usable answer"]
        assert all(x.startswith("step ") for x in bars["x"][2:])
    reference = next(b for b in spec["data"] if "reference" in b["name"])
    assert reference["y"][0] == 2  # the project's two traces without an error, drawn


def test_the_group_table_shows_the_cards_precision(project):
    at = open_app(PAGE)
    table = next(d.value for d in at.dataframe if {"f1", "first_error_accuracy"} <= set(d.value.columns))
    for column in table.select_dtypes("float").columns:
        assert (table[column].dropna().round(1) == table[column].dropna()).all(), column
