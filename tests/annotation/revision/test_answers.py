"""Final answers found in solutions, a trace's original answer, and what exact match compares."""

from fractions import Fraction

import pytest

from annotation.core.model import Trace
from annotation.revision.answers import as_number, final_answer, for_math, last_boxed, normalise, original_answer


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("So x = 4.\n\nFinal answer: \\boxed{42}", "42"),
        ("first \\boxed{1}, then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("nested \\boxed{\\sqrt{\\frac{a}{b}}} done", "\\sqrt{\\frac{a}{b}}"),
        ("an unclosed \\boxed{3 and more", None),
        ("Final answer: 17 apples.", "17 apples"),
        ("The final answer is $\\frac{3}{4}$.", "\\frac{3}{4}"),
        ("So the answer is (A)", "(A)"),
        ('So, we need "}". So the answer is }', "}"),
        ("Natalia sold 72 clips.\n#### 72", "72"),
        ("I think it is right.", None),
        ("", None),
        (None, None),
        ("Final answer: **\\boxed{7}**", "7"),
        # Minerva's ending: the innermost marker, the math in its $...$, not the sentence after it.
        ("Final Answer: The final answer is $42$. I hope it is correct.", "42"),
        ("Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", "\\frac{1}{2}"),
        ("The answer is 42. I hope it is correct.", "42"),
        ("The answer is 3.5. That is all.", "3.5"),
        ("Final answer: Mr. Smith. He did it.", "Mr. Smith"),
    ],
)
def test_the_final_answer_of_a_solution(text, answer):
    assert final_answer(text) == answer


def test_the_last_complete_box_wins():
    assert last_boxed("\\boxed{1} \\fbox{2} \\boxed{") == "2"


def test_the_original_answer_is_the_answer_field_else_the_last_steps():
    with_field = Trace(problem="p", steps=["a", "So the answer is 3"], answer=" 5 ")
    without = Trace(problem="p", steps=["a", "So the answer is 3"], answer="")
    nothing = Trace(problem="p", steps=["a", "b"])
    assert original_answer(with_field) == "5"
    assert original_answer(without) == "3"
    assert original_answer(nothing) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [("(A)", "A"), ("$42$", "42"), ("1,000", "1000"), ("\\text{Paris}", "paris"), ("42.", "42"), ("a  b", "A b")],
)
def test_normalised_answers_that_exact_match_takes_as_equal(a, b):
    assert normalise(a) == normalise(b)


def test_integers_units_and_math():
    assert as_number(" -2116 ") == (-2116, True) and as_number("1,000") == (1000, True)
    assert as_number("\\dfrac{-3}{6}") == (Fraction(-1, 2), True) and as_number("-\\frac12") == (Fraction(-1, 2), True)
    assert as_number("6/4") == (Fraction(3, 2), True) and as_number("1.50") == (Fraction(3, 2), False)
    assert as_number("1/0") is None and as_number("\\sqrt{2}") is None and as_number("x") is None
    assert for_math("18 dollars") == "18" and for_math("\\frac{1}{2}") == "\\frac{1}{2}" and for_math("2 cm") == "2"


@pytest.mark.parametrize("answer", ["2x", "3 pi", "5 i", "2 e", "4 sqrt", "7 Pi", "2 and 3", "1 x", "6 mod"])
def test_a_variable_or_a_word_of_mathematics_is_not_a_unit(answer):
    assert for_math(answer) == answer


@pytest.mark.parametrize(
    ("answer", "number"),
    [("5 cm", "5"), ("12 dollars", "12"), ("18 dollars.", "18"), ("5 sq. ft", "5"), ("-3.5 kg", "-3.5")],
)
def test_a_number_then_a_unit_in_words_is_the_number(answer, number):
    assert for_math(answer) == number
