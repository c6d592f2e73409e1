"""A username is a name, never markup: every payload of the corpus is refused as one.
As a display name the same text is kept exactly as written (the pages show it as text)."""

from __future__ import annotations

import pytest

from annotation.accounts.users import create_user, list_users
from annotation.core.model import InvalidValue
from tests.e2e.payloads import PAYLOADS


def test_every_payload_is_refused_as_a_username(sqlite_engine):
    for text in PAYLOADS.values():
        with pytest.raises(InvalidValue) as refused:
            create_user(sqlite_engine, username=text, password="long-enough-password")
        assert refused.value.field == "username"
    assert list_users(sqlite_engine) == []


def test_a_payload_is_kept_as_written_as_a_display_name(sqlite_engine):
    for i, text in enumerate(PAYLOADS.values()):
        create_user(sqlite_engine, username=f"user{i}", password=None, display_name=text)  # None: no slow hash
    assert sorted(u.display_name for u in list_users(sqlite_engine)) == sorted(PAYLOADS.values())
