"""Project settings and quality control."""

from dataclasses import replace

import pytest

from annotation.core.model import InvalidValue
from annotation.projects.settings import load_settings, quality_control, save_settings, set_quality_control
from annotation.workflow.queue import next_trace
from annotation.workflow.workbench import open_trace, submit
from tests.utils.projects import make_project


def test_settings_round_trip_and_are_checked(engine, tmp_path):
    make_project(engine, tmp_path)
    settings = replace(load_settings(engine, "p"), taxonomy=("calculation", "logic"), label_mode="every_step")
    save_settings(engine, "p", settings)
    assert load_settings(engine, "p") == settings
    for bad in (
        {"label_mode": "vibes"},
        {"judgments_per_trace": 0},
        {"taxonomy": ("a", "a")},
        {"queue_order": "alphabetical"},
    ):
        with pytest.raises(InvalidValue) as e:
            save_settings(engine, "p", replace(settings, **bad))
        assert e.value.field == next(iter(bad))
    assert load_settings(engine, "p") == settings


def test_quality_control_needs_a_reference_and_scores_each_annotator(engine, tmp_path):
    rules = make_project(engine, tmp_path, traces=2)
    with pytest.raises(InvalidValue, match="no trace at position 9"):
        set_quality_control(engine, "p", positions=[8])
    assert set_quality_control(engine, "p", positions=[0, 1]) == 2
    for username, say_error in (("ann", False), ("bob", True)):
        for _ in range(2):
            trace_id = next_trace(engine, rules, username=username)
            opened = open_trace(engine, trace_id=trace_id, username=username, rules=rules, is_admin=False)
            copy = opened.work.with_verdict(1, -1, "first_error") if say_error else opened.work.all_correct()
            submit(engine, opened, username=username, copy=copy, rules=rules)
    n_qc, rows = quality_control(engine, "p")
    # Trace 1 has no error, trace 2 is wrong at step 2: each annotator matches the reference once.
    assert n_qc == 2
    assert [(r.annotator, r.judged, r.first_error_matches) for r in rows] == [("ann", 2, 1), ("bob", 2, 1)]
    assert rows[0].accuracy == 0.5
