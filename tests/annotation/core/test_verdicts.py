"""One table of verdict words: label imports and critics' answers read every spelling alike (review of issue 16)."""

from __future__ import annotations

import pytest

from annotation.core.model import InvalidValue
from annotation.core.verdicts import VERDICT_WORDS, parse_verdict
from annotation.critics.parsing import StepVerdict
from annotation.importing.formats.step_lists import verdicts_per_step


@pytest.mark.parametrize("spelled", [*VERDICT_WORDS, "OK", " True ", True, False, 1, 0, -1, 1.0])
def test_imports_and_critics_read_a_verdict_alike(spelled):
    imported = verdicts_per_step([spelled], "v", 1)[0]
    assert imported == StepVerdict(verdict=spelled).verdict == parse_verdict(spelled)


def test_ok_is_neutral_and_booleans_are_correct_or_wrong():
    assert verdicts_per_step(["ok", True, False, "true", "false", None, ""], "v", 7) == [0, 1, -1, 1, -1, None, None]
    assert verdicts_per_step("[true, true, false]", "v", 3) == [1, 1, -1]  # TRL's stepwise labels, as JSON text


@pytest.mark.parametrize("bad", ["fine", 2, 0.5, [1], float("nan")])
def test_anything_else_is_refused_naming_the_step(bad):
    with pytest.raises(InvalidValue, match=r"step 2: .* is not a verdict"):
        verdicts_per_step([1, bad], "v", 2)
