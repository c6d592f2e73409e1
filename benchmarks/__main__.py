"""`python -m benchmarks [options]`: run every benchmark with the same options.

Options are those of each benchmark (for now: `--traces N`, `--seed S`, `--check`, ...); see
`python -m benchmarks.import_speed --help`. The exit status is the worst of the benchmarks'.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from benchmarks import BENCHMARKS


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    status = 0
    for name in BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        status = max(status, module.main(args))
    return status


if __name__ == "__main__":
    sys.exit(main())
