import pytest

from annotation.core.model import InvalidValue
from annotation.importing.formats.step_split import split_steps


@pytest.mark.parametrize(
    ("value", "rule", "steps"),
    [
        (["a", " b "], "auto", ["a", "b"]),
        ('["a", "b"]', "auto", ["a", "b"]),
        ("Intro\nStep 1: a\nStep 2: b", "step-n", ["a", "b"]),
        ("**Step 1.** a\n**Step 2.** b", "auto", ["a", "b"]),
        ("a\n\nb\n\n\nc", "auto", ["a", "b", "c"]),
        ("a\nb", "auto", ["a", "b"]),
        ("a\nb\n\nc", "lines", ["a", "b", "c"]),
        ("It is 2. So it is 4! Done.", "sentences", ["It is 2.", "So it is 4!", "Done."]),
        ("a || b || c", r"regex:\s*\|\|\s*", ["a", "b", "c"]),
    ],
)
def test_split_rules(value, rule, steps):
    assert split_steps(value, rule, "solution") == steps


def test_empty_and_wrong_types_name_the_field():
    with pytest.raises(InvalidValue) as e:
        split_steps("  \n ", "lines", "solution")
    assert e.value.field == "solution"
    with pytest.raises(InvalidValue, match="got int"):
        split_steps(3, "auto", "solution")
    with pytest.raises(InvalidValue, match="JSON list"):
        split_steps("a b", "list", "solution")
