"""Paths typed in the browser reach only the import folder (findings 1 and 10 of the trust issue)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.importing.server_paths import APP_ROOT, OutsideImportFolder, resolve_typed_path


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    imports = tmp_path / "imports"
    imports.mkdir()
    monkeypatch.setenv("REDLINE_IMPORT_DIR", str(imports))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{imports / 'redline.db'}")
    return imports


def refusal(typed: str) -> str:
    with pytest.raises(OutsideImportFolder) as caught:
        resolve_typed_path(typed)
    return str(caught.value)


def test_a_file_in_the_folder_is_found_by_relative_or_absolute_path(folder: Path):
    (folder / "sub").mkdir()
    (folder / "sub" / "a.jsonl").write_text("{}\n")

    assert resolve_typed_path("sub/a.jsonl") == folder / "sub" / "a.jsonl"
    assert resolve_typed_path(str(folder / "sub" / "a.jsonl")) == folder / "sub" / "a.jsonl"


def test_outside_the_folder_reads_the_same_whether_or_not_the_file_exists(folder: Path, tmp_path: Path):
    secret = tmp_path / "credentials.json"
    secret.write_text(json.dumps({"client_secret": "s3cr3t"}))

    there, absent = refusal(str(secret)), refusal(str(tmp_path / "absent.json"))

    assert there == absent
    assert "import folder" in there and "s3cr3t" not in there
    assert refusal("../credentials.json") == there
    assert refusal("/etc/passwd") == there


def test_a_link_out_of_the_folder_is_refused(folder: Path, tmp_path: Path):
    secret = tmp_path / "credentials.json"
    secret.write_text("{}")
    (folder / "innocent.json").symlink_to(secret)

    assert "import folder" in refusal("innocent.json")


def test_the_database_and_its_journals_are_refused_even_inside_the_folder(folder: Path):
    for name in ("redline.db", "redline.db-wal", "redline.db-shm"):
        (folder / name).write_bytes(b"SQLite format 3\x00")
        assert "Redline's own files" in refusal(name)


def test_the_apps_own_files_are_refused_even_when_the_folder_holds_them(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REDLINE_IMPORT_DIR", str(APP_ROOT))
    assert (APP_ROOT / "app.py").is_file() and (APP_ROOT / ".streamlit" / "config.toml").is_file()

    assert "Redline's own files" in refusal("app.py")
    assert "Redline's own files" in refusal(".streamlit/config.toml")
    assert "Redline's own files" in refusal("annotation/core/model.py")


def test_a_missing_file_inside_the_folder_is_named(folder: Path):
    assert "no file at nothing.jsonl" in refusal("nothing.jsonl")
