"""How a generic file's first-error column counts steps, as far as the file proves it (issue 17: it was taken as
0-based unless told, even when the column held no 0)."""

from annotation.importing.formats.generic import FieldMapping, first_error_base_evidence

MAPPING = FieldMapping(problem="q", steps="s", first_error="err")


def record(err, steps=3):
    return {"q": "?", "s": [f"step {k}" for k in range(steps)], "err": err}


def test_a_zero_proves_counting_from_zero():
    found = first_error_base_evidence([record(2), record("N/A"), record(0)], MAPPING)
    assert found.base == 0 and "record 3" in found.reason


def test_a_value_equal_to_the_number_of_steps_proves_counting_from_one():
    found = first_error_base_evidence([record(2), record(3)], MAPPING)
    assert found.base == 1 and "record 2 has err = 3, its number of steps" in found.reason


def test_a_zero_anywhere_wins_over_a_last_step():
    assert first_error_base_evidence([record(3), record(0)], MAPPING).base == 0


def test_nothing_proven_is_none_never_a_guess():
    assert first_error_base_evidence([record(1), record(2), record(None), record("N/A")], MAPPING) is None
    assert first_error_base_evidence([record(0)], FieldMapping(problem="q", steps="s")) is None  # no column mapped


def test_steps_split_from_text_count_as_the_import_would():
    mapping = FieldMapping(problem="q", steps="s", first_error="err", step_split="lines")
    assert first_error_base_evidence([{"q": "?", "s": "a\nb", "err": "2"}], mapping).base == 1


def test_a_problem_built_from_several_columns_in_order():
    """Issue 17: MR-Ben's steps talk about "Choice B", which sits in Options, not in Question."""
    from annotation.importing.formats.base import ConvertContext, ConvertOptions
    from annotation.importing.formats.generic import Generic
    from annotation.importing.formats.reading import RawRecord

    mapping = FieldMapping(problem="Question+Options", steps="s")
    data = {"Question": "Which is prime?", "Options": "A) 4\nB) 5", "s": ["B is prime."], "extra": 1}
    record = Generic().convert(RawRecord(1, 1, data), ConvertContext("f.jsonl", ConvertOptions(mapping=mapping)))
    assert record.trace.problem == "Which is prime?\n\nA) 4\nB) 5"
    assert record.trace.metadata == {"extra": 1}  # the joined columns are used, not kept again as metadata
    named = FieldMapping(problem="A+B", steps="s")  # a file whose column is really called "A+B"
    record = Generic().convert(
        RawRecord(1, 1, {"A+B": "sum?", "s": ["x"]}), ConvertContext("f", ConvertOptions(mapping=named))
    )
    assert record.trace.problem == "sum?"
