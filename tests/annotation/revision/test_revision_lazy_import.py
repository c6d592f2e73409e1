"""Pages stay quick to open: what the Revisions tab and the CLI import at load time pulls in neither litellm nor
math-verify's sympy (seconds each); a run imports litellm, and only math-verify's worker imports sympy."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

MODULES = (
    "pages.revision_view",
    "annotation.cli.main",
    "annotation.exporting.run",
    "annotation.revision.runs",
    "annotation.revision.report",
    "annotation.revision.grading",
)


def test_loading_the_revision_modules_imports_neither_litellm_nor_sympy():
    code = (
        "import sys, streamlit\n"
        + "".join(f"import {m}\n" for m in MODULES)
        + "print(sorted({m.split('.')[0] for m in sys.modules} & {'litellm', 'sympy', 'math_verify'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
