"""The Compare page on a project with spans: the Spans tab's figures, and both sides' spans in the trace view."""

from __future__ import annotations

import copy
import json

from annotation.core.model import Source
from annotation.importing.files import import_file
from annotation.importing.formats.base import ConvertOptions
from tests.pages.conftest import open_app
from tests.utils.files import write_jsonl
from tests.utils.surface import Surface

SAMPLE = "fgrlhf-qa-feedback-sample/dev_feedback.first100.json"


def test_span_figures_and_spans_side_by_side(database_url, db, datasets, tmp_path):
    records = json.loads((datasets / SAMPLE).read_text())[:20]
    other = copy.deepcopy(records)
    for r in other:
        for e in r["feedback"]["errors"][:1]:
            e["error type"] = "Unverifiable" if e["error type"] != "Unverifiable" else "Irrelevant"
    other[0]["feedback"]["errors"] = []  # ann2 finds nothing wrong in the first answer: a disagreement to open
    for source, rows in ((Source("human", "ann1"), records), (Source("human", "ann2"), other)):
        path = write_jsonl(tmp_path / f"{source.name}.jsonl", rows)
        import_file(db, path, project="QA", options=ConvertOptions(label_source=source, answer_split="sentences"))
    at = open_app("pages/compare.py")
    at.selectbox(key="compare_project").set_value("QA").run()
    at.selectbox(key="compare_a").set_value("human:ann1").run()
    at.selectbox(key="compare_b").set_value("human:ann2").run()
    assert not at.exception
    assert [t.label for t in at.tabs][-2:] == ["Spans", "Revisions"]
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["Span F1, exact"]) < 1.0 and float(metrics["Character-level alpha (people)"]) < 1.0
    table = next(d.value for d in at.dataframe if "error type" in d.value.columns)
    assert set(table["error type"]) >= {"all", "Irrelevant"}

    at.selectbox(key="compare_trace").set_value(0).run()
    sides = Surface(at, key="compare_view").data()["sides"]
    marked = [sp for step in sides[0]["steps"] for sp in step["spans"]]
    assert marked and all(sp["text"] and sp["type"] for sp in marked)
    assert not [sp for step in sides[1]["steps"] for sp in step["spans"]]
    answer = records[0]["prediction 1"]
    # Each piece is the answer's own text (a span crossing sentences shows once per sentence).
    assert all(sp["text"] in answer for sp in marked)
    # With the offsets in the step, so the view can highlight each side's spans over the same plain text.
    texts = Surface(at, key="compare_view").data()["trace"]["texts"]
    for i, step in enumerate(sides[0]["steps"]):
        for sp in step["spans"]:
            assert texts[i][sp["start"] : sp["end"]] == sp["text"] and (sp["part"], sp["field"]) == (0, "text")
