"""Next for me: overlap, reservations, quality control, orders and progress."""

import random
from datetime import timedelta

from annotation.projects.settings import set_quality_control
from annotation.projects.traces import load_traces
from annotation.workflow.queue import QC_EVERY, hold, my_work, next_trace, priorities_from_model_disagreement, progress
from annotation.workflow.workbench import open_trace, project_rules, save_draft, submit
from storage.tables import utcnow
from tests.utils.projects import make_project


def judge(engine, rules, username, trace_id):
    opened = open_trace(engine, trace_id=trace_id, username=username, rules=rules, is_admin=False)
    submit(engine, opened, username=username, copy=opened.work.all_correct(), rules=rules)


def positions(engine, rules):
    return {s.id: s.position for s in load_traces(engine, rules.name)}


def test_import_order_and_reservations_keep_two_people_apart(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=4)
    where = positions(engine, rules)
    a = next_trace(engine, rules, username="ann")
    b = next_trace(engine, rules, username="bob")
    assert (where[a], where[b]) == (0, 1)
    assert next_trace(engine, rules, username="ann") == a  # still mine until I submit or skip
    judge(engine, rules, "ann", a)
    assert where[next_trace(engine, rules, username="ann")] == 2


def test_an_expired_reservation_frees_the_trace(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=2, reservation_minutes=5)
    now = utcnow()
    a = next_trace(engine, rules, username="ann", now=now)
    later = now + timedelta(minutes=6)
    assert next_trace(engine, rules, username="bob", now=later) == a


def test_with_two_judgments_per_trace_a_second_annotator_gets_the_same_traces_but_never_twice(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=3, judgments_per_trace=2)
    ann = []
    while (t := next_trace(engine, rules, username="ann")) is not None:
        judge(engine, rules, "ann", t)
        ann.append(t)
    assert len(ann) == 3
    bob = []
    while (t := next_trace(engine, rules, username="bob")) is not None:
        judge(engine, rules, "bob", t)
        bob.append(t)
    assert bob == ann
    assert next_trace(engine, rules, username="cat") is None  # every trace has its two judgments
    done = progress(engine, rules, username="ann")
    assert (done.traces, done.complete, done.mine, done.open_to_me) == (3, 3, 3, 0)


def test_skipped_traces_are_left_out_for_the_sitting(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=3)
    first = next_trace(engine, rules, username="ann")
    second = next_trace(engine, rules, username="ann", exclude=(first,))
    assert second != first
    assert next_trace(engine, rules, username="ann", exclude=(first, second)) not in (first, second, None)


def test_quality_control_traces_go_to_everyone_even_when_complete(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=QC_EVERY + 3)
    set_quality_control(engine, rules.name, positions=[QC_EVERY + 2])
    qc_id = next(t for t, p in positions(engine, rules).items() if p == QC_EVERY + 2)
    served = []
    for username in ("ann", "bob"):
        for _ in range(QC_EVERY + 3):
            t = next_trace(engine, rules, username=username)
            if t is None:
                break
            judge(engine, rules, username, t)
            served.append((username, t))
    assert ("ann", qc_id) in served and ("bob", qc_id) in served
    assert served.index(("ann", qc_id)) == QC_EVERY - 1  # one QC trace after every QC_EVERY - 1 others


def test_random_order_starts_somewhere_else_and_still_serves_everything(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=8, queue_order="random")
    rng = random.Random(3)
    seen = []
    while (t := next_trace(engine, rules, username="ann", rng=rng)) is not None:
        judge(engine, rules, "ann", t)
        seen.append(positions(engine, rules)[t])
    assert sorted(seen) == list(range(8)) and seen != sorted(seen)


def test_priority_order_serves_where_model_critics_disagree_first(engine, tmp_path):
    from annotation.importing.files import import_file
    from tests.utils.files import processbench_record, write_jsonl

    rules = make_project(engine, tmp_path, traces=4, queue_order="priority")
    for name, labels in (("m1", [-1, -1, 0, -1]), ("m2", [-1, -1, 2, -1])):
        records = [processbench_record(i, label=labels[i]) for i in range(4)]
        import_file(engine, write_jsonl(tmp_path / f"{name}.jsonl", records), project="p", options=_as(f"model:{name}"))
    assert priorities_from_model_disagreement(engine, rules) == 1
    assert positions(engine, rules)[next_trace(engine, rules, username="ann")] == 2


def _as(source):
    from annotation.core.model import Source
    from annotation.importing.formats.base import ConvertOptions

    return ConvertOptions(label_source=Source.parse(source))


def test_my_work_lists_drafts_and_submissions(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=3)
    a = next_trace(engine, rules, username="ann")
    judge(engine, rules, "ann", a)
    b = next_trace(engine, rules, username="ann")
    opened = open_trace(engine, trace_id=b, username="ann", rules=rules, is_admin=False)
    save_draft(engine, opened, username="ann", copy=opened.work.all_correct())
    items = my_work(engine, rules, username="ann")
    assert [(i.trace_id, i.status) for i in items] == [(b, "draft"), (a, "submitted")]
    assert project_rules(engine, "p") == rules


def test_working_on_a_trace_keeps_it_held_past_the_first_reservation(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=2, reservation_minutes=5)
    long_ago = utcnow() - timedelta(minutes=10)
    a = next_trace(engine, rules, username="ann", now=long_ago)  # held until 5 minutes ago
    assert next_trace(engine, rules, username="bob") == a  # so it went to bob
    hold(engine, rules, trace_id=a, username="ann")  # ann reopens it: hers again, bob keeps his too
    opened = open_trace(engine, trace_id=a, username="ann", rules=rules, is_admin=False)
    save_draft(engine, opened, username="ann", copy=opened.work.all_correct(), hold_minutes=5)
    assert next_trace(engine, rules, username="cat") != a  # held by two, needed by one


def test_a_trace_taken_between_the_pick_and_the_lock_is_not_kept(engine, tmp_path, monkeypatch):
    from storage import work

    rules = make_project(engine, tmp_path, traces=2)
    first = next_trace(engine, rules, username="ann")
    real_pick = work.first_open_trace
    calls = []

    def stale_pick(session, **kwargs):
        # The first pick still sees ann's trace as open, as a concurrent pick would have.
        calls.append(kwargs)
        if len(calls) == 1:
            return first, 0
        return real_pick(session, **kwargs)

    monkeypatch.setattr(work, "first_open_trace", stale_pick)
    assert next_trace(engine, rules, username="bob") not in (first, None)


def test_a_person_holds_the_trace_they_are_on_and_the_next_one_but_no_third(engine, tmp_path):
    """The Annotate page holds the next trace while a person works on the current one (it is already in their
    browser): another person must get neither. A third hold releases the oldest."""
    rules = make_project(engine, tmp_path, traces=6)
    on = next_trace(engine, rules, username="ann")
    upcoming = next_trace(engine, rules, username="ann", exclude=(on,))
    opened = open_trace(engine, trace_id=on, username="ann", rules=rules, is_admin=False)
    save_draft(engine, opened, username="ann", copy=opened.work.with_step(0, critique="working"))
    other = next_trace(engine, rules, username="bob")
    assert other not in (on, upcoming)
    third = next_trace(engine, rules, username="ann", exclude=(on, upcoming, other))
    assert third not in (on, upcoming, other)
    # ann's oldest hold (the trace after her draft renewed "on" is "upcoming") is released: bob may take it.
    assert next_trace(engine, rules, username="bob", exclude=(other,)) == upcoming
