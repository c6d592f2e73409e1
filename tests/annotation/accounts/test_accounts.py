"""Local accounts: argon2 hashes only, sign-in, roles, the last admin, members."""

import pytest
from sqlmodel import select

from annotation.accounts.users import (
    SignInRefused,
    account_for_token,
    create_first_admin,
    create_user,
    issue_token,
    members_of,
    projects_for,
    revoke_token,
    set_members,
    sign_in,
    sign_in_external,
    update_user,
)
from annotation.core.model import InvalidValue
from storage.db import session
from storage.tables import SignInToken, User
from tests.utils.projects import make_project


def test_passwords_are_kept_only_as_argon2_hashes(engine):
    create_user(engine, username="alice", password="correct horse")
    with session(engine) as s:
        stored = s.exec(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert sign_in(engine, username="alice", password="correct horse").role == "annotator"
    for username, password in (("alice", "wrong horse"), ("nobody", "correct horse")):
        with pytest.raises(SignInRefused, match="wrong username or password"):
            sign_in(engine, username=username, password=password)


def test_bad_usernames_and_short_passwords_are_refused_by_field(engine):
    with pytest.raises(InvalidValue) as e:
        create_user(engine, username="has space", password="long enough")
    assert e.value.field == "username"
    with pytest.raises(InvalidValue) as e:
        create_user(engine, username="bob", password="short")
    assert e.value.field == "password"
    create_user(engine, username="bob", password="long enough")
    with pytest.raises(InvalidValue, match="taken"):
        create_user(engine, username="bob", password="long enough")


def test_the_first_admin_only_on_a_fresh_install_and_never_the_last_admin_removed(engine):
    create_first_admin(engine, username="root", password="long enough")
    with pytest.raises(InvalidValue, match="exists already"):
        create_first_admin(engine, username="root2", password="long enough")
    with pytest.raises(InvalidValue, match="last active admin"):
        update_user(engine, username="root", role="annotator")
    with pytest.raises(InvalidValue, match="last active admin"):
        update_user(engine, username="root", active=False)
    create_user(engine, username="second", password="long enough", role="admin")
    assert update_user(engine, username="root", role="annotator").role == "annotator"


def test_inactive_accounts_cannot_sign_in_and_a_new_password_works(engine):
    create_user(engine, username="carol", password="first password")
    update_user(engine, username="carol", password="second password")
    assert sign_in(engine, username="carol", password="second password")
    update_user(engine, username="carol", active=False)
    with pytest.raises(SignInRefused):
        sign_in(engine, username="carol", password="second password")


def test_annotators_see_their_projects_and_admins_see_all(engine, tmp_path):
    make_project(engine, tmp_path, name="one")
    make_project(engine, tmp_path, name="two")
    ann = create_user(engine, username="ann", password="long enough")
    admin = create_user(engine, username="boss", password="long enough", role="admin")
    assert projects_for(engine, ann) == []
    set_members(engine, project="two", usernames=["ann"])
    assert projects_for(engine, ann) == ["two"] and members_of(engine, "two") == ["ann"]
    assert projects_for(engine, admin) == ["one", "two"]
    set_members(engine, project="two", usernames=[])
    assert projects_for(engine, ann) == []


def test_an_oidc_sign_in_makes_the_account_once_and_the_first_is_admin(engine):
    first = sign_in_external(engine, email="lead@example.org", name="Lead")
    again = sign_in_external(engine, email="lead@example.org")
    other = sign_in_external(engine, email="ann@example.org")
    assert (first.role, again.role, other.role) == ("admin", "admin", "annotator")
    with pytest.raises(SignInRefused):
        sign_in(engine, username="lead@example.org", password="")


def test_sign_in_tokens_last_until_revoked_expired_or_the_password_changes(engine):
    create_user(engine, username="dora", password="long enough")
    token = issue_token(engine, username="dora", hours=1)
    assert account_for_token(engine, token).username == "dora"
    assert account_for_token(engine, token + "x") is None
    revoke_token(engine, token)
    assert account_for_token(engine, token) is None
    expired = issue_token(engine, username="dora", hours=-1)
    assert account_for_token(engine, expired) is None
    live = issue_token(engine, username="dora", hours=1)
    update_user(engine, username="dora", password="another password")
    assert account_for_token(engine, live) is None
    with session(engine) as s:
        stored = s.exec(select(SignInToken.token_hash)).all()
    assert live not in stored and token not in stored  # only hashes are kept


def test_oidc_identities_with_unusual_characters_and_deactivated_accounts(engine):
    create_user(engine, username="first", password="long enough", role="admin")
    assert sign_in_external(engine, email="Ann+Tag@Example.org").username == "ann+tag@example.org"
    assert sign_in_external(engine, email="", subject="google-oauth2|123").username == "google-oauth2-123"
    update_user(engine, username="ann+tag@example.org", active=False)
    with pytest.raises(SignInRefused, match="deactivated"):
        sign_in_external(engine, email="ann+tag@example.org")
