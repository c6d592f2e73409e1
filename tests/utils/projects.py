"""A small project on any engine: traces imported the way users import them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine

from annotation.importing.files import import_file
from annotation.projects.settings import load_settings, save_settings
from annotation.workflow.workbench import ProjectRules, project_rules
from tests.utils.files import processbench_record, write_jsonl


def make_project(
    engine: Engine, folder: Path, *, name: str = "p", traces: int = 6, steps: int = 3, **settings
) -> ProjectRules:
    """``traces`` traces with a reference label (odd ones: error at step 2), with the settings given."""
    records = [processbench_record(i, label=1 if i % 2 else -1, steps=steps) for i in range(traces)]
    import_file(engine, write_jsonl(folder / f"{name}.jsonl", records), project=name)
    if settings:
        current = load_settings(engine, name)
        save_settings(engine, name, replace(current, **settings))
    rules = project_rules(engine, name)
    assert rules is not None
    return rules
