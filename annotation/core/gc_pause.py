"""Bulk work (imports, exports) without the cyclic garbage collector walking its millions of objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector: the records form no cycles, and it would walk the many short-lived objects
    again and again (a fifth of a 100,000-trace import). Reference counting still frees them; the previous
    state is restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
