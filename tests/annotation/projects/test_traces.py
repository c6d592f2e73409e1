"""Reading single traces and generator counts back, as the Critics page asks for them."""

from __future__ import annotations

import pytest

from annotation.importing.files import import_file
from annotation.projects.overview import NoSuchProject
from annotation.projects.traces import generators, trace_number
from tests.utils.files import processbench_record, write_jsonl


def test_a_trace_by_its_number_and_the_generators(engine, tmp_path):
    records = [processbench_record(i) | {"generator": "m1" if i < 3 else "m2"} for i in range(5)]
    import_file(engine, write_jsonl(tmp_path / "p.jsonl", records), project="p")

    assert trace_number(engine, "p", 1).record_id == "t-0"
    assert trace_number(engine, "p", 5).record_id == "t-4"
    assert trace_number(engine, "p", 6) is None and trace_number(engine, "p", 0) is None
    assert generators(engine, "p") == {"m1": 3, "m2": 2}
    with pytest.raises(NoSuchProject):
        generators(engine, "nope")
