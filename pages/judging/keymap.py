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
    ("Esc", "leave a text box (single keys type text there)"),
    ("?", "show these keys"),
]

HELP_TABLE = "| key | does |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in HELP)
