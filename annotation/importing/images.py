"""Images a trace shows: copied in at import, named by their content, kept with the project.

An image arrives as a data URI, as a file path relative to the file being imported, or as a remote URL.
The first two are read, checked (a PNG, JPEG, GIF or WebP by its first bytes, and no larger than
``REDLINE_IMAGE_MAX_MB``, 10 MB unless set) and stored once per project under their SHA-256 and extension.
A remote URL is kept as a link: Redline never fetches it, and the page never loads it.

A path never leaves the folder of the file it appears in: ``../`` or an absolute path is refused, so a
record cannot make the server read a file the operator did not hand over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from annotation.core.model import InvalidValue
from annotation.core.parts import is_remote

MAX_ENV = "REDLINE_IMAGE_MAX_MB"
DEFAULT_MAX_MB = 10
MB = 1024 * 1024
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}
# The extensions a file of each type may keep; any other (".html" on a GIF) gives way to the type's own.
KEPT_EXTENSIONS = {
    "image/png": {".png"},
    "image/jpeg": {".jpg", ".jpeg", ".jpe"},
    "image/gif": {".gif"},
    "image/webp": {".webp"},
}
# A stored image's name: what storage keys it by and what a part names.
STORED_NAME = re.compile(r"^[0-9a-f]{64}\.[A-Za-z0-9]{1,8}$")
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*)(;base64)?,", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ImageBlob:
    name: str
    media_type: str
    data: bytes


def limit_mb() -> float:
    try:
        return float(os.environ.get(MAX_ENV) or DEFAULT_MAX_MB)
    except ValueError:
        return DEFAULT_MAX_MB


def limit_bytes() -> int:
    return int(limit_mb() * MB)


def media_type_of(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _refuse_size(size: int, where: str, about: str = "") -> None:
    if size > limit_bytes():
        raise InvalidValue(
            where,
            f"the image is {about}{size:,} bytes ({size / MB:,.4g} MB); images may be at most {limit_mb():g} MB "
            f"(set {MAX_ENV} to change the limit)",
        )


def _checked(data: bytes, extension: str, where: str) -> ImageBlob:
    _refuse_size(len(data), where)
    media_type = media_type_of(data)
    if media_type is None:
        raise InvalidValue(where, "not a PNG, JPEG, GIF or WebP image (by its first bytes)")
    if (extension or "").lower() not in KEPT_EXTENSIONS[media_type]:
        extension = EXTENSIONS[media_type]
    return ImageBlob(hashlib.sha256(data).hexdigest() + extension, media_type, data)


def from_data_uri(uri: str, where: str) -> ImageBlob:
    match = _DATA_URI.match(uri)
    if match is None or not match.group(3):
        raise InvalidValue(where, "a data URI for an image must be base64 (data:image/png;base64,...)")
    encoded = uri[match.end() :]
    # Checked before decoding: base64 is 4/3 of the bytes, so a huge URI is refused without holding it twice.
    _refuse_size(len(encoded) * 3 // 4 - encoded[-2:].count("="), where, about="about ")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidValue(where, f"the data URI is not valid base64 ({e})") from e
    declared = (match.group(1) or "").lower()
    return _checked(data, EXTENSIONS.get(declared, ""), where)


def from_path(ref: str, base_dir: Path | None, where: str) -> ImageBlob:
    if base_dir is None:
        raise InvalidValue(
            where, f"{ref!r} is a file path, and this import has no folder to read it from; use a data URI"
        )
    if "\x00" in ref:
        raise InvalidValue(where, "an image path cannot hold a NUL character")
    relative = Path(ref)
    if relative.is_absolute() or ".." in relative.parts or "\\" in ref:
        raise InvalidValue(where, f"{ref!r} leaves the folder of the imported file; image paths are relative to it")
    try:
        path = (base_dir / relative).resolve()
    except (OSError, ValueError) as e:
        raise InvalidValue(where, f"{ref!r} is not a path Redline can read ({e})") from e
    if not path.is_relative_to(base_dir.resolve()):
        raise InvalidValue(where, f"{ref!r} leaves the folder of the imported file (through a link)")
    try:
        _refuse_size(path.stat().st_size, where)
        data = path.read_bytes()
    except OSError as e:
        raise InvalidValue(where, f"cannot read the image {ref!r} ({e.strerror})") from e
    return _checked(data, path.suffix, where)


def take(ref: str, *, base_dir: Path | None, where: str, found: dict[str, ImageBlob]) -> str:
    """What a part keeps for the image ``ref``: a remote URL as it is, else the stored image's name (its bytes
    added to ``found``, written with the traces)."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidValue(where, "an image needs a data URI, a path or a URL")
    ref = ref.strip()
    if is_remote(ref):
        return ref
    blob = from_data_uri(ref, where) if ref.lower().startswith("data:") else from_path(ref, base_dir, where)
    found.setdefault(blob.name, blob)
    return blob.name
