"""Final answers: found in a solution's text, and made comparable.

A reply's final answer is the last ``\\boxed{...}`` (braces balanced), else the last "final answer: X", else the
last "the answer is X", else GSM8K's "#### X"; X is the math of a ``$...$`` it starts with, else the rest of its
sentence. A trace's original answer is its ``answer`` field, or, when that is empty, the final answer found in its
last step. ``None`` means no final answer: it is graded wrong, and counted.
"""

from __future__ import annotations

import re
from fractions import Fraction

from annotation.core.model import Trace

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
# The markers of a stated answer; the answer is what follows the last one (Minerva's "Final Answer: The final answer
# is $42$. I hope it is correct." states it twice: the inner one holds the answer).
_FINAL = re.compile(r"final\s+answer\s*(?:is|:|=)\s*", re.IGNORECASE)
_ANSWER_IS = re.compile(r"\bthe\s+answer\s+is\s*:?\s*", re.IGNORECASE)
# The end of a sentence: a full stop (not a decimal point, nor an abbreviation's) followed by a space or the end.
_SENTENCE_END = re.compile(r"(\S*)\.(?=\s|$)")
_ABBREVIATIONS = frozenset(["mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "no", "approx"])
_HASHES = re.compile(r"^\s*####\s*(.+)$", re.MULTILINE)
_CHOICE = re.compile(r"^\(?([A-Za-z])\)?$")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}")
_INTEGER = re.compile(r"^[+-]?\d+$")
# A number, a space, then a unit in words ("18 dollars", "5 sq. ft"): the number is the answer. Every word has two
# letters or more, and none is a word of mathematics: "2x", "3 pi", "5 i", "2 e", "4 sqrt" are not units.
_NUMBER_THEN_WORDS = re.compile(r"^([+-]?(?:\d[\d,]*)?\.?\d+)\s+([A-Za-z]{2,}\.?(?:\s+[A-Za-z]{2,}\.?)*)$")
_WORD = re.compile(r"[A-Za-z]+")
_MATH_WORDS = """pi sqrt root cbrt sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh log ln lg exp mod modulo
inf infty infinity and or to times plus minus over divided by choose squared cubed power dx dy dz dt"""
NOT_UNITS = frozenset(_MATH_WORDS.split())


def _balanced(text: str, start: int) -> str | None:
    """The text from ``start`` up to the brace that closes the one just before it, or None when it never closes."""
    depth = 1
    for i in range(start, len(text)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return None


def last_boxed(text: str) -> str | None:
    """The content of the last complete ``\\boxed{...}``."""
    found = None
    for match in _BOXED.finditer(text):
        inside = _balanced(text, match.end())
        if inside is not None:
            found = inside
    return found


def _stated(rest: str) -> str | None:
    """The answer in what follows a marker, on its line: the math of a leading $...$, else up to the sentence's end."""
    rest = rest.splitlines()[0].strip().strip("*").strip() if rest.strip() else ""
    if rest.startswith("$"):
        dollars = len(rest) - len(rest.lstrip("$"))
        close = rest.find("$" * dollars, dollars)
        if close > dollars:
            return _clean(rest[dollars:close])
    if last_boxed(rest) is None:
        for end in _SENTENCE_END.finditer(rest):
            if end.group(1).lower() not in _ABBREVIATIONS:
                rest = rest[: end.end(1)]
                break
    return _clean(rest)


def _clean(answer: str) -> str | None:
    answer = answer.strip().strip("*").strip()
    answer = re.sub(r"[.\s]+$", "", answer)  # "is 42." -> 42
    if answer.startswith("$") and answer.endswith("$") and len(answer) > 1:
        answer = answer.strip("$").strip()
    boxed = last_boxed(answer)
    if boxed is not None:
        answer = boxed.strip()
    return answer or None


def final_answer(text: str | None) -> str | None:
    """The final answer a solution states, or None when it states none."""
    if not text or not text.strip():
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip() or None
    for pattern in (_FINAL, _ANSWER_IS):
        last = None
        for last in pattern.finditer(text):  # noqa: B007 (the last marker is the one that counts)
            pass
        if last is not None:
            return _stated(text[last.end() :])
    hashes = _HASHES.findall(text)
    if hashes:
        return _clean(hashes[-1])
    return None


def original_answer(trace: Trace) -> str | None:
    """The trace's own answer field, or the final answer found in its last step."""
    if trace.answer is not None and trace.answer.strip():
        return trace.answer.strip()
    return final_answer(trace.steps[-1]) if trace.steps else None


def normalise(answer: str) -> str:
    """An answer as exact match compares it: no surrounding $ or spaces, \\text{} unwrapped, a choice letter without
    its brackets, thousands separators dropped, lower case, one space between words."""
    a = answer.strip()
    if a.startswith("$") and a.endswith("$") and len(a) > 1:
        a = a.strip("$").strip()
    a = _TEXT.sub(r"\1", a).strip()
    a = re.sub(r"[.\s]+$", "", a)
    choice = _CHOICE.match(a)
    if choice:
        a = choice.group(1)
    if _THOUSANDS.match(a):
        a = a.replace(",", "")
    return " ".join(a.lower().split())


_SLASH = re.compile(r"^([+-]?\d+)/(\d+)$")
_FRAC = re.compile(r"^([+-]?)\\[dt]?frac(?:\{([+-]?\d+)\}\{(\d+)\}|(\d)(\d))$")
_DECIMAL = re.compile(r"^[+-]?\d*\.\d+$")


def as_number(answer: str) -> tuple[Fraction, bool] | None:
    """The answer's value when it is a plain number (an integer, a/b, \\frac{a}{b} or a decimal), and whether it is
    exact (a decimal is not: math-verify compares decimals rounded); None for anything else."""
    a = normalise(answer).replace(" ", "")
    if _DECIMAL.match(a):
        return Fraction(a), False
    if _INTEGER.match(a):
        return Fraction(int(a)), True
    slash = _SLASH.match(a)
    if slash:
        top, bottom = int(slash[1]), int(slash[2])
    else:
        frac = _FRAC.match(a)
        if frac is None:
            return None
        top = (-1 if frac[1] == "-" else 1) * int(frac[2] or frac[4])
        bottom = int(frac[3] or frac[5])
    return (Fraction(top, bottom), True) if bottom else None


def for_math(answer: str) -> str:
    """The answer as math-verify should read it: a number, a space and a unit in words keeps only the number
    (math-verify would read "18 dollars" as a product of letters), everything else as written: "2x", "3 pi" or
    "5 i" are mathematics, not units (a unit is a word of two letters or more that is not in NOT_UNITS)."""
    a = answer.strip()
    unit = _NUMBER_THEN_WORDS.match(a)
    if unit is None or any(w.lower() in NOT_UNITS for w in _WORD.findall(unit.group(2))):
        return a
    return unit.group(1)
