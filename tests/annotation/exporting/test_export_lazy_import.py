"""An export that selects nothing by usefulness does not load the revision figures (pandas and scipy, a second or
so at every `export` and `train-check` start)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_exporting_loads_neither_pandas_nor_scipy_until_usefulness_is_asked_for():
    code = (
        "import sys\n"
        "import annotation.exporting.run, annotation.exporting.formats, annotation.exporting.train_check\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'scipy'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
