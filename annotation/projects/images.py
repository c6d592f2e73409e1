"""The stored images a trace shows, as data URIs the page (or a vision critic) is given: no fetch anywhere."""

from __future__ import annotations

from sqlmodel import Session

from annotation.core.model import Trace
from annotation.core.parts import data_uri, image_refs, is_remote
from storage import queries


def image_uris(s: Session, *, project_id: int, trace: Trace) -> dict[str, str]:
    """Data URIs by stored name, for the images of ``trace`` (none read when it shows none)."""
    names = [ref for ref in image_refs(trace) if not is_remote(ref)]
    if not names:
        return {}
    found = queries.images_named(s, project_id=project_id, names=names)
    return {name: data_uri(media_type, data) for name, (media_type, data) in found.items()}
