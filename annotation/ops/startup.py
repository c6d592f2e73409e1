"""What every entry point does first: build the engine, migrate, and seed the demo on a fresh install."""

from __future__ import annotations

from sqlalchemy import Engine

from annotation.projects.demo import load_demo_if_empty
from storage.db import make_engine, migrate


def prepare(url: str | None = None, *, load_demo: bool = False) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    if load_demo:
        load_demo_if_empty(engine)
    return engine
