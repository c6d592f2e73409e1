"""The app stays quick to start: nothing a page imports at load time pulls in litellm (about 2 s to import)."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

CRITIC_PAGES = ("pages/critics.py", "pages/check_critiques.py")


def imported_modules(page: str) -> list[str]:
    tree = ast.parse((ROOT / page).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return sorted(set(found))


def test_the_critic_pages_imports_leave_litellm_unimported():
    modules = sorted({m for page in CRITIC_PAGES for m in imported_modules(page)} | {"annotation.cli.main"})
    assert "annotation.critics.runs" in modules and "annotation.workflow.checking" in modules
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'litellm'))"
    )

    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_run_does_import_it():
    code = "import sys, annotation.critics.calling; print('litellm' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr
