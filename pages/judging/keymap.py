"""The keys of the judging pages: one map, so a letter means the same thing wherever it works."""

from __future__ import annotations

# key (as KeyboardEvent.key, lower case for letters) -> action of the judging surface
KEYS = {
    "j": "next",
    "ArrowDown": "next",
    "k": "previous",
    "ArrowUp": "previous",
    "1": "correct",
    "2": "neutral",
    "3": "wrong",
    "f": "first_error",
    "e": "critique",
    "t": "tags",
    "o": "overall",
    "a": "all_correct",
    "x": "skip",
    "b": "back",
    "?": "help",
    # Annotate, before judging: change where the steps begin and end.
    "u": "merge",
    "s": "split",
    # Annotate: mark wrong words of the current step and give them an error type.
    "h": "mark",
    # Annotate: something is missing after the current step; what a wrong step builds on; the corrected answer;
    # the steps as plain text (with the marked words highlighted) or rendered.
    "i": "missing",
    "w": "because",
    "c": "corrected",
    "v": "plain",
    # Check critiques: take the model's verdict on the step, or the opposite; rate the critique as a whole.
    "y": "accept",
    "n": "reject",
    "g": "rate_helpful",
    "p": "rate_partly",
    "m": "rate_misleading",
}

HELP = [
    ("J / ↓, K / ↑", "next / previous step"),
    ("1 / 2 / 3", "current step correct / neutral (both move on) / wrong (stays)"),
    ("F", "jump to the first error"),
    ("E", "write a critique of the current step"),
    ("T, then 1-9", "toggle the current step's error tags (T, Enter or Esc to leave)"),
    ("O", "write the overall critique"),
    ("A", "every step correct (no error)"),
    ("Ctrl+Enter", "submit and go to the next trace, from anywhere"),
    ("X", "skip this trace for now"),
    ("B", "back to the trace before"),
    ("H, then select and 1-9", "mark wrong words of the current step with an error type (Esc leaves)"),
    ("V", "show the steps as plain text with the marked words highlighted, or rendered again"),
    ("I", "something is missing after the current step (then its type, a note, the passage)"),
    ("W", "a wrong step is wrong because of an earlier wrong step (press again for an earlier one, then original)"),
    ("C", "write the corrected answer"),
    ("U", "merge the current step with the next one (before anyone judged the trace)"),
    ("S", "split the current step: put the caret where it should end, then Enter (Esc leaves)"),
    ("Esc", "leave a text box (single keys type text there)"),
    ("?", "show these keys"),
]

CHECK_HELP = [
    ("J / ↓, K / ↑", "next / previous step"),
    ("Y / N", "the model is right on this step (its verdict and explanation) / wrong (the opposite verdict)"),
    ("1 / 2 / 3", "your own verdict on the step: correct / neutral / wrong"),
    ("E", "write or edit the explanation of the current step (starts from the model's)"),
    ("A", "every step correct (no error)"),
    ("F", "jump to your first error"),
    ("G / P / M", "the critique as a whole is helpful / partly helpful / misleading"),
    ("O", "write a replacement explanation"),
    ("Ctrl+Enter", "submit and go to the next critique, from anywhere"),
    ("X, B", "next / previous critique without submitting"),
    ("Esc, ?", "leave a text box; show these keys"),
]


def table(rows: list[tuple[str, str]]) -> str:
    return "| key | does |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


HELP_TABLE = table(HELP)
CHECK_HELP_TABLE = table(CHECK_HELP)
