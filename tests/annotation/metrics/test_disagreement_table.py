"""The disagreement table, all humans against a reference, and one trace with both sides for the browser."""

import json

from annotation.core.model import NO_ERROR, Judgment, Source, StepLabel
from annotation.core.records import judgment_row
from annotation.judgments.visibility import ProjectView
from annotation.metrics import ALL_HUMANS, compare
from annotation.metrics.disagreements import trace_view
from annotation.metrics.pairs import from_rows
from storage import queries
from storage.db import session
from storage.tables import utcnow
from tests.utils.metrics_data import row, traces


def test_only_disagreements_in_trace_order_with_their_kind():
    rows = [row(t, "reference", fe) for t, fe in ((1, -1), (2, 1), (3, 2))]
    rows += [row(t, "human:h1", fe) for t, fe in ((1, 0), (2, 1), (3, 3))]
    rows += [row(t, "human:h2", fe) for t, fe in ((1, -1), (3, -1))]
    result = compare(from_rows("p", traces(3), rows), ALL_HUMANS, "reference", resamples=0)
    table = result.disagreements
    assert result.n == 5
    assert table[["trace_id", "kind", "source_a"]].values.tolist() == [
        [1, "false_alarm", "human:h1"],
        [3, "too_late", "human:h1"],
        [3, "missed", "human:h2"],
    ]


def test_humans_against_each_other_pair_only_different_people():
    rows = [row(1, "human:h1", 0), row(1, "human:h2", 1)]
    result = compare(from_rows("p", traces(1), rows), ALL_HUMANS, ALL_HUMANS, resamples=0)
    assert result.n == 2
    assert sorted(result.disagreements["kind"]) == ["too_early", "too_late"]


def test_trace_view_shows_both_sides(sqlite_engine):
    with session(sqlite_engine) as s, s.begin():
        project = queries.create_project(s, name="p")
        (trace_id,) = queries.insert_traces(
            s,
            rows=[
                {
                    "project_id": project.id,
                    "position": 0,
                    "content_key": "k",
                    "problem": "<b>2+2</b>?",
                    "steps": ["2+2=5", "so 5"],
                    "n_steps": 2,
                    "meta": {},
                }
            ],
        )
        now = utcnow()
        human = Judgment(
            source=Source("human", "ann"),
            first_error=0,
            steps=[StepLabel(verdict=-1, critique="2+2 is 4")],
        )
        model = Judgment(source=Source("model", "m"), first_error=NO_ERROR, critique="looks fine")
        queries.insert_judgments(
            s, rows=[judgment_row(human, trace_id=trace_id, now=now), judgment_row(model, trace_id=trace_id, now=now)]
        )
    view = trace_view(sqlite_engine, trace_id, ["model:m", ALL_HUMANS], ProjectView.admin())
    assert view.trace.problem == "<b>2+2</b>?"
    assert set(view.judgments) == {"human:ann", "model:m"}
    assert view.judgments["human:ann"].steps[0].critique == "2+2 is 4"
    assert view.versions == {"human:ann": 1, "model:m": 1}
    assert json.dumps(view.judgments["model:m"].critique) == '"looks fine"'
