"""The plain values behind the Import page (annotation.importing.preview)."""

from __future__ import annotations

import pytest

from annotation.core.model import NO_ERROR, first_error_text
from annotation.importing.preview import (
    AUTO_DETECT,
    chosen_format,
    format_choices,
    guess_column,
    inspect_file,
    parse_no_error_values,
)


def test_first_error_reads_one_based_and_keeps_no_error_apart_from_not_judged():
    assert first_error_text(0) == "step 1"
    assert first_error_text(4) == "step 5"
    assert first_error_text(NO_ERROR) == "no error"
    assert first_error_text(None) == "not judged"


def test_no_error_values_are_comma_separated():
    assert parse_no_error_values("null, -1, N/A") == ("null", "-1", "N/A")
    assert parse_no_error_values(" none ,, ") == ("none",)
    assert parse_no_error_values("") == ()


def test_format_choices_start_with_auto_detect():
    choices = format_choices()
    assert choices[0] == AUTO_DETECT
    assert {"processbench", "generic"} <= set(choices)
    assert chosen_format(AUTO_DETECT) is None
    assert chosen_format("generic") == "generic"


def test_columns_are_guessed_by_common_names():
    columns = ["UID", "Question", "response", "other"]
    assert guess_column("id", columns) == "UID"
    assert guess_column("problem", columns) == "Question"
    assert guess_column("steps", columns) == "response"
    assert guess_column("critique", columns) is None
    # Review of issue 16: a column named file (or source_file) was taken as the source file, changing which traces
    # ids name and the source file stored on new traces; only a person maps it.
    assert guess_column("source_file", [*columns, "file", "source_file"]) is None
    with pytest.raises(ValueError):
        guess_column("nonsense", columns)


def test_inspect_file_lists_columns_in_order_and_detects(tmp_path):
    path = tmp_path / "pb.jsonl"
    path.write_text(
        '{"problem": "p", "steps": ["s"], "label": -1}\n'
        '{"problem": "q", "steps": ["t"], "label": 0, "prediction": 0}\n',
        encoding="utf-8",
    )
    sample = inspect_file(path)
    assert sample.columns == ["problem", "steps", "label", "prediction"]
    assert sample.detected == "processbench"
    assert sample.has_predictions

    other = tmp_path / "mine.csv"
    other.write_text("question,solution\nq,s\n", encoding="utf-8")
    sample = inspect_file(other, "shown.csv")
    assert sample.detected is None
    assert "shown.csv" in sample.detect_error
