"""Small writers for test input files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def processbench_record(i: int, label: int = -1, steps: int = 3) -> dict[str, Any]:
    return {
        "id": f"t-{i}",
        "generator": "unit-model",
        "problem": f"What is {i} + {i}?",
        "steps": [f"Step text {k} of record {i}." for k in range(steps)],
        "final_answer_correct": label == -1,
        "label": label,
    }
