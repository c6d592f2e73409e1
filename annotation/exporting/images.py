"""The project's images an export names, written as files beside it (``images/NAME``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine

from annotation.core.parts import IMAGE_FOLDER, image_refs, is_remote
from storage import queries
from storage.db import session

CHUNK = 200


def names_in(trace) -> list[str]:
    return [ref for ref in image_refs(trace) if not is_remote(ref)]


def write_images(engine: Engine, project_id: int, names: Iterable[str], folder: Path) -> list[Path]:
    """Each named image into ``folder/images``, a few at a time so a project of large images is never held
    whole; the files written."""
    wanted = sorted(set(names))
    written = []
    if not wanted:
        return written
    target = folder / IMAGE_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(wanted), CHUNK):
        with session(engine) as s:
            found = queries.images_named(s, project_id=project_id, names=wanted[start : start + CHUNK])
        for name, (_media_type, data) in found.items():
            path = target / name
            path.write_bytes(data)
            written.append(path)
    return written
