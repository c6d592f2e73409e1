"""Which judgment labels each trace: consensus, else the humans' majority (most recent on a tie), else reference."""

from __future__ import annotations

import pytest

from annotation.core.model import NO_ERROR, InvalidValue
from annotation.exporting.formats.base import ExportOptions
from annotation.exporting.formats.selection import parse_source, parse_where
from annotation.exporting.run import preview
from tests.utils import export_data


@pytest.fixture
def project(sqlite_engine):
    export_data.build(sqlite_engine)
    return sqlite_engine


def labels(engine, **options) -> list[tuple[str, str, int]]:
    records, _ = preview(engine, export_data.PROJECT, "redline", ExportOptions(**options), n=100)
    return [(r["record_id"], r["label_source"], r["first_error"]) for r in records]


def test_best_available_prefers_consensus_then_humans_then_reference(project):
    chosen = {rid: (src, fe) for rid, src, fe in labels(project)}

    assert chosen["t-0"] == ("consensus", NO_ERROR)
    assert chosen["t-2"] == ("human:bob", 2)  # both agree; the most recent of the majority
    assert chosen["t-1"] == ("human:bob", NO_ERROR)  # a tie: the most recently submitted
    assert chosen["t-6"] == ("human:carol", 1)
    assert chosen["t-7"] == ("reference", 3)  # dave's judgment is a draft, so only the reference counts
    assert chosen["t-11"] == ("reference", 3)


def test_a_named_source_uses_only_that_source(project):
    chosen = {rid: (src, fe) for rid, src, fe in labels(project, source="human:alice")}
    assert chosen["t-1"] == ("human:alice", 1)
    assert chosen["t-8"] == (None, None)
    model = {rid: fe for rid, _, fe in labels(project, source="model:critic")}
    assert model["t-3"] == 1 and model["t-11"] is None


def test_drafts_count_only_when_asked(project):
    chosen = {rid: (src, fe) for rid, src, fe in labels(project, only_submitted=False)}
    assert chosen["t-7"] == ("human:dave", 2)


def test_minimum_agreement_keeps_traces_where_enough_humans_agree(project):
    records, facts = preview(project, export_data.PROJECT, "processbench", ExportOptions(min_agreement=1.0), n=100)

    assert [r["id"] for r in records] == ["t-0", "t-2", "t-4"]
    assert facts.left_out["human agreement below 1"] == 3
    assert facts.left_out["fewer than two human judgments to measure agreement"] == 6


def test_give_up_is_left_out_of_training_formats_unless_kept(project):
    trl, facts = preview(project, export_data.PROJECT, "trl-stepwise", ExportOptions(), n=100)
    assert len(trl) == 11 and facts.left_out == {"labelled give_up": 1}
    kept, _ = preview(project, export_data.PROJECT, "trl-stepwise", ExportOptions(leave_out_unfinished=False), n=100)
    assert len(kept) == 12
    evaluation, _ = preview(project, export_data.PROJECT, "processbench", ExportOptions(), n=100)
    assert len(evaluation) == 12  # an evaluation format keeps every label as it is


def test_filter_by_metadata_and_trace_fields(project):
    records, facts = preview(
        project, export_data.PROJECT, "processbench", ExportOptions(where={"task": "odd", "generator": "gen-b"}), n=100
    )
    assert [r["id"] for r in records] == ["t-3", "t-7", "t-11"]
    assert facts.traces_seen == 3
    limited, _ = preview(project, export_data.PROJECT, "processbench", ExportOptions(limit=2), n=100)
    assert [r["id"] for r in limited] == ["t-0", "t-1"]


def test_source_and_filter_text_is_checked():
    assert parse_source("") == "best"
    assert parse_source(" human ") == "human"
    assert parse_source("human: alice") == "human:alice"
    with pytest.raises(InvalidValue):
        parse_source("robot:x")
    assert parse_where(["task=odd", " bucket = 1"]) == {"task": "odd", "bucket": "1"}
    with pytest.raises(InvalidValue, match="KEY=VALUE"):
        parse_where(["task"])
