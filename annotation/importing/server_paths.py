"""Which files on the server a path typed in the browser may reach: only the operator's import folder.

A path typed in a page is resolved (links followed) and must land inside ``REDLINE_IMPORT_DIR``
(``./data/imports`` by default). The database file and its journals, and the app's own files, are
refused even when the folder would hold them: opening the SQLite file with plain file I/O and closing
it drops the process's SQLite locks, after which another process may delete the WAL under the server.
A path outside the folder gets the same answer whether or not it exists, so the page reveals nothing
about the rest of the disk. The CLI does not come through here: its operator may import any path.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.config import database_url

APP_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_IMPORT_DIR = "./data/imports"
# SQLite keeps these beside the database, named after it.
_SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


class OutsideImportFolder(Exception):
    """The typed path is not a file the browser may read; the message says where files may be put."""


def import_dir() -> Path:
    return Path(os.environ.get("REDLINE_IMPORT_DIR") or DEFAULT_IMPORT_DIR).expanduser().resolve()


def database_files(url: str | None = None) -> set[Path]:
    """The SQLite database file and its journals (none for a server database)."""
    parsed = make_url(url or database_url())
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return set()
    db = Path(parsed.database).expanduser().resolve()
    return {db.with_name(db.name + suffix) for suffix in _SQLITE_COMPANIONS}


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _app_file(path: Path) -> bool:
    """The app's code, configuration and secrets; its data folder (uploads, imports) is not among them."""
    return _inside(path, APP_ROOT) and not _inside(path, APP_ROOT / "data")


def resolve_typed_path(typed: str) -> Path:
    """The file a person typed, resolved inside the import folder, or OutsideImportFolder saying why not.

    A relative path is taken inside the import folder. Nothing is opened here, and the file is only
    looked at (``stat``) once it is known to be inside the folder.
    """
    folder = import_dir()
    text = typed.strip()
    if not text:
        raise OutsideImportFolder("type a path to a file in the import folder")
    if "\x00" in text:
        raise OutsideImportFolder("a path cannot hold a NUL character")
    candidate = Path(text).expanduser()
    resolved = (candidate if candidate.is_absolute() else folder / candidate).resolve()
    outside = (
        f"files on the server are read only from the import folder {folder} (set REDLINE_IMPORT_DIR to change "
        f"it); put the file there, or upload it"
    )
    if not _inside(resolved, folder) or resolved == folder:
        raise OutsideImportFolder(outside)
    if resolved in database_files() or _app_file(resolved):
        raise OutsideImportFolder(f"{text} is one of Redline's own files (its database or code), not an import")
    if not resolved.is_file():
        raise OutsideImportFolder(f"no file at {resolved.relative_to(folder)} in the import folder {folder}")
    return resolved
