"""ProcessBench GSM8K (from ../shared/datasets) in a project, with a critic's predictions beside its labels.

The critic is made up: it agrees with the label on every other trace and is wrong on the rest, so DPO has pairs
and KTO both kinds of row. Its predictions are imported as ProcessBench's evaluation output would carry them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from annotation.importing.files import import_file

PROJECT = "ProcessBench GSM8K"
CRITIC = "model:processbench-predictions"


def records(datasets: Path) -> list[dict[str, Any]]:
    return json.loads((datasets / "processbench" / "gsm8k.json").read_text(encoding="utf-8"))


def prediction(i: int, label: int) -> int:
    if i % 2 == 0:
        return label
    return 0 if label == -1 else -1


def build(engine: Engine, datasets: Path, folder: Path) -> list[dict[str, Any]]:
    """Import the 400 traces with their labels, then the critic's predictions on them; returns the records."""
    originals = records(datasets)
    import_file(engine, datasets / "processbench" / "gsm8k.json", project=PROJECT)
    evaluated = folder / "gsm8k_eval.jsonl"
    with evaluated.open("w", encoding="utf-8") as f:
        for i, rec in enumerate(originals):
            pred = prediction(i, rec["label"])
            critique = f"I checked each paragraph.\n\n\\boxed{{{pred}}}"
            f.write(json.dumps({**rec, "prediction": pred, "generated_critique": critique}) + "\n")
    import_file(engine, evaluated, project=PROJECT)
    return originals
