"""Drafts, submissions and stale edits, on SQLite and PostgreSQL."""

import pytest

from annotation.projects.settings import set_quality_control
from annotation.workflow.labelling import CORRECT, WRONG
from annotation.workflow.workbench import DraftConflict, StaleJudgment, open_trace, save_draft, submit
from storage.db import session
from storage.queries import revisions_of
from storage.work import get_draft, human_judgment
from tests.utils.projects import make_project


def first_trace_id(engine, rules) -> int:
    from annotation.projects.traces import load_traces

    return load_traces(engine, rules.name, limit=1)[0].id


def test_a_draft_survives_a_reload_and_submission_clears_it(engine, tmp_path):
    rules = make_project(engine, tmp_path)
    trace_id = first_trace_id(engine, rules)
    opened = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    assert opened.base_version == 0 and opened.draft_version is None
    work = opened.work.with_verdict(1, WRONG, "first_error").with_step(1, critique="wrong sum", tags=("calculation",))
    save_draft(engine, opened, username="ann", copy=work)

    reloaded = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    assert reloaded.work == work and reloaded.draft_version == 1

    version = submit(engine, reloaded, username="ann", copy=work, rules=rules)
    assert version == 1
    with session(engine) as s:
        stored = human_judgment(s, trace_id=trace_id, username="ann")
    assert (stored.first_error, stored.status, stored.finish_reason) == (1, "submitted", "found_error")
    assert stored.steps[1] == {"verdict": -1, "critique": "wrong sum", "tags": ["calculation"]}
    again = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    assert again.submitted and again.draft_version is None and again.base_version == 1
    assert [s.verdict for s in again.work.steps] == [CORRECT, WRONG, None]


def test_a_second_tab_cannot_overwrite_a_draft_or_a_submission(engine, tmp_path):
    rules = make_project(engine, tmp_path)
    trace_id = first_trace_id(engine, rules)
    tab_a = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    tab_b = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    save_draft(engine, tab_a, username="ann", copy=tab_a.work.with_verdict(0, WRONG, "first_error"))
    with pytest.raises(DraftConflict):
        save_draft(engine, tab_b, username="ann", copy=tab_b.work.all_correct())

    submit(engine, tab_a, username="ann", copy=tab_a.work, rules=rules)
    with pytest.raises(StaleJudgment):
        submit(engine, tab_b, username="ann", copy=tab_b.work.all_correct(), rules=rules)
    with session(engine) as s:
        assert human_judgment(s, trace_id=trace_id, username="ann").first_error == 0


def test_resubmitting_keeps_the_earlier_revision(engine, tmp_path):
    rules = make_project(engine, tmp_path)
    trace_id = first_trace_id(engine, rules)
    opened = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    submit(engine, opened, username="ann", copy=opened.work.all_correct(), rules=rules)
    reopened = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    assert (
        submit(engine, reopened, username="ann", copy=reopened.work.with_verdict(2, WRONG, "first_error"), rules=rules)
        == 2
    )
    with session(engine) as s:
        judgment = human_judgment(s, trace_id=trace_id, username="ann")
        history = revisions_of(s, judgment_id=judgment.id)
    assert judgment.first_error == 2
    assert [(r.version, r.content["first_error"], r.changed_by) for r in history] == [(1, -1, "ann")]


def test_blind_projects_hide_references_and_other_people_from_annotators_not_admins(engine, tmp_path):
    rules = make_project(engine, tmp_path, blind=True)
    trace_id = first_trace_id(engine, rules)
    other = open_trace(engine, trace_id=trace_id, username="bob", rules=rules, is_admin=False)
    submit(engine, other, username="bob", copy=other.work.all_correct(), rules=rules)
    annotator = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    assert annotator.others == {}
    admin = open_trace(engine, trace_id=trace_id, username="boss", rules=rules, is_admin=True)
    assert set(admin.others) == {"reference", "human:bob"}


def test_a_trace_from_another_project_is_refused(engine, tmp_path):
    rules = make_project(engine, tmp_path, name="one")
    other = make_project(engine, tmp_path, name="two")
    with pytest.raises(LookupError):
        open_trace(engine, trace_id=first_trace_id(engine, other), username="ann", rules=rules, is_admin=False)


def test_submitting_from_a_tab_that_missed_a_newer_draft_is_refused_and_the_draft_kept(engine, tmp_path):
    rules = make_project(engine, tmp_path)
    trace_id = first_trace_id(engine, rules)
    tab_a = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    save_draft(engine, tab_a, username="ann", copy=tab_a.work.with_verdict(0, WRONG, "first_error"))
    tab_b = open_trace(engine, trace_id=trace_id, username="ann", rules=rules, is_admin=False)
    save_draft(engine, tab_b, username="ann", copy=tab_b.work.all_correct())  # v2, newer than tab A's
    with pytest.raises(DraftConflict):
        submit(engine, tab_a, username="ann", copy=tab_a.work, rules=rules)
    with session(engine) as s:
        assert human_judgment(s, trace_id=trace_id, username="ann") is None
        assert get_draft(s, trace_id=trace_id, username="ann").version == 2


def test_quality_control_traces_hide_the_reference_from_annotators(engine, tmp_path):
    rules = make_project(engine, tmp_path)
    set_quality_control(engine, rules.name, positions=[0])
    opened = open_trace(engine, trace_id=first_trace_id(engine, rules), username="ann", rules=rules, is_admin=False)
    assert opened.others == {}
