"""Redline's benchmarks: `python -m benchmarks` runs them all (`make bench`).

Each benchmark is a module with ``main(argv) -> int``; it prints a table, writes its figures to
``benchmarks/out/<name>.json`` and, with ``--check``, exits non-zero when a budget is missed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

OUT = Path(__file__).resolve().parent / "out"

#: Module names under ``benchmarks``, run in this order by ``python -m benchmarks``.
BENCHMARKS = (
    "import_speed",
    "agent_traces",
    "annotate_speed",
    "export_speed",
    "critic_speed",
    "revision_speed",
    "metrics_speed",
    "span_measures",
    "load_test",
    "browser_load",
)


def finish(result: dict[str, Any], report: str, out: Path, *, check: bool) -> int:
    """Print the report, write the figures as JSON, and give the exit status (1 when --check and a budget failed)."""
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"  figures written to {out}")
    return 1 if check and not result["passed"] else 0


def in_workdir(workdir: Path | None, prefix: str, measure: Callable[[Path], T]) -> T:
    """Run ``measure`` in ``workdir`` (kept afterwards, for a look at what was built) or a temporary folder."""
    if workdir:
        workdir.mkdir(parents=True, exist_ok=True)
        return measure(workdir)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        return measure(Path(tmp))
