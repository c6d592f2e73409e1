"""Run `python -m annotation ...` in a child process and kill it with SIGKILL at a chosen point of its progress."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def server_command(port: int) -> list[str]:
    """`streamlit run server.py` (the app and its sign-in cookie routes), headless, on ``port``, not reloading on
    edits (a change elsewhere in the tree must not restart it mid-run)."""
    return [
        sys.executable,
        *("-m", "streamlit", "run", "server.py"),
        *("--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none"),
    ]


def stop_group(process: subprocess.Popen) -> None:
    """Stop a server started with ``start_new_session=True`` and its children: TERM, then KILL if it lingers."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(database_url: str, log: Path, script: str | None = None, env: dict[str, str] | None = None) -> Iterator[str]:
    """The app (or a one-file ``script``) served on a free port, as `make run` serves it; its URL. Stopped with its
    children afterwards; its output goes to ``log``."""
    port = free_port()
    command = server_command(port)
    if script is not None:
        command[command.index("server.py")] = script
    env = os.environ | {"DATABASE_URL": database_url, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"} | (env or {})
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start within 120 s") from None
                time.sleep(0.2)
        yield url
    finally:
        stop_group(server)


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **extra}


def start_cli(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """The CLI in a child process; its output goes to ``log`` (a pipe could fill up and stall it)."""
    out = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "annotation", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )


def run_cli(args: list[str], env: dict[str, str], timeout_s: float = 60) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "annotation", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)


def kill_when(
    process: subprocess.Popen, ready: Callable[[], bool], log: Path, *, timeout_s: float = 20, poll_s: float = 0.01
) -> float:
    """SIGKILL the process as soon as ``ready()`` holds; the seconds it ran. Fails if it ends first."""
    started = time.monotonic()
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"the process ended (rc {process.returncode}) before the kill:\n{log.read_text()}")
        if time.monotonic() - started > timeout_s:
            process.kill()
            process.wait()
            raise AssertionError(f"the kill point never came within {timeout_s} s:\n{log.read_text()}")
        time.sleep(poll_s)
    process.send_signal(signal.SIGKILL)
    process.wait()  # reaped, so its pid is gone from this machine
    assert process.returncode == -signal.SIGKILL
    return time.monotonic() - started


def sqlite_scalar(path: Path, sql: str) -> object:
    """One value, read through a plain connection (never blocks the writer)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)) as c:
            return c.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return None  # the table is not there yet, or the file is busy for a moment


def sqlite_sound(path: Path) -> None:
    """The file passes SQLite's integrity check and no row points at nothing."""
    with closing(sqlite3.connect(path)) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
