"""Redline's benchmarks: `python -m benchmarks` runs them all (`make bench`).

Each benchmark is a module with ``main(argv) -> int``; it prints a table, writes its figures to
``benchmarks/out/<name>.json`` and, with ``--check``, exits non-zero when a budget is missed.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

#: Module names under ``benchmarks``, run in this order by ``python -m benchmarks``.
BENCHMARKS = ("import_speed", "annotate_speed", "export_speed", "critic_speed", "metrics_speed", "load_test")
