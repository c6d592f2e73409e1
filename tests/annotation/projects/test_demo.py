from annotation.core.model import NO_ERROR
from annotation.projects.demo import DEMO_PROJECT, demo_records, load_demo_if_empty
from annotation.projects.overview import project_overview


def test_demo_has_a_few_dozen_traces_with_and_without_errors():
    records = demo_records()
    assert 24 <= len(records) <= 60
    labels = [r.judgments[0].first_error for r in records]
    assert NO_ERROR in labels and any(label >= 0 for label in labels)
    for r in records:
        r.trace.validate()
        r.judgments[0].validate(len(r.trace.steps))
        assert "$" not in r.trace.problem  # money in dollars would render as LaTeX


def test_demo_loads_only_into_an_empty_database(engine):
    assert load_demo_if_empty(engine) is not None
    assert load_demo_if_empty(engine) is None
    overview = project_overview(engine, DEMO_PROJECT)
    assert overview.traces == len(demo_records())
    assert overview.judgments["reference"] == overview.traces
