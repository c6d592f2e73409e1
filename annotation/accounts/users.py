"""Local accounts, roles and who works on which project. Passwords are kept only as argon2 hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func
from sqlmodel import select

from annotation.core.model import InvalidValue, Source
from storage import locks
from storage.config import settings
from storage.db import session
from storage.tables import Membership, Project, SignInHandoff, SignInToken, User, utcnow

ROLES = ("admin", "annotator")
MIN_PASSWORD_LENGTH = 8
# A username becomes the name in the source `human:<username>`, so it stays plain.
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
_NOT_IN_USERNAME = re.compile(r"[^A-Za-z0-9._@+-]")

_hasher = PasswordHasher()
# The name every account-changing check-then-act holds (first admin, last admin).
ACCOUNTS_LOCK = "accounts"
HANDOFF = timedelta(seconds=60)
# The HttpOnly cookie that remembers a signed-in browser (set and cleared by server.py only).
SESSION_COOKIE = "redline_session"


def session_hours() -> float:
    """How long a sign-in lasts (REDLINE's SESSION_HOURS setting, 12 by default)."""
    return settings().session_hours


@dataclass(frozen=True, slots=True)
class Account:
    """Who is signed in: what the pages need, without the password hash."""

    username: str
    role: str
    display_name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def source(self) -> Source:
        return Source("human", self.username)

    @property
    def label(self) -> str:
        return self.display_name or self.username


class SignInRefused(Exception):
    """Wrong username or password; the message never says which."""


def _account(user: User) -> Account:
    return Account(username=user.username, role=user.role, display_name=user.display_name)


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME.match(username):
        raise InvalidValue(
            "username", "use 1-128 letters, digits and . _ @ + -, starting with a letter or digit (no spaces)"
        )
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue("password", f"use at least {MIN_PASSWORD_LENGTH} characters")
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidValue("role", f"{role!r} is not one of {', '.join(ROLES)}")
    return role


def has_users(engine: Engine) -> bool:
    with session(engine) as s:
        return s.exec(select(func.count(User.id))).one() > 0


def create_user(
    engine: Engine, *, username: str, password: str | None, role: str = "annotator", display_name: str = ""
) -> Account:
    """A new account; ``password`` None makes an account that signs in through OIDC only."""
    username = check_username(username)
    check_role(role)
    password_hash = _hasher.hash(check_password(password)) if password is not None else None
    with session(engine) as s:
        user = _add_user(s, username, password_hash, role, display_name)
        s.commit()
        return _account(user)


def _add_user(s, username: str, password_hash: str | None, role: str, display_name: str) -> User:
    if s.exec(select(User).where(User.username == username)).first() is not None:
        raise InvalidValue("username", f"{username!r} is taken")
    user = User(username=username, password_hash=password_hash, role=role, display_name=display_name.strip())
    s.add(user)
    s.flush()
    return user


def create_first_admin(engine: Engine, *, username: str, password: str) -> Account:
    """Only while there is no account at all: the fresh install's way in. Two people trying at once get one
    admin between them: the check and the insert hold the accounts lock together."""
    username = check_username(username)
    password_hash = _hasher.hash(check_password(password))
    with session(engine) as s:
        locks.hold(s, ACCOUNTS_LOCK)
        if s.exec(select(func.count(User.id))).one() > 0:
            raise InvalidValue("username", "an admin exists already; sign in instead")
        user = _add_user(s, username, password_hash, "admin", "")
        s.commit()
        return _account(user)


def sign_in(engine: Engine, *, username: str, password: str) -> Account:
    with session(engine) as s:
        user = s.exec(select(User).where(User.username == username.strip())).first()
        if user is None or not user.active or user.password_hash is None:
            # Hash anyway, so a wrong username takes as long as a wrong password.
            _hasher.hash(password)
            raise SignInRefused("wrong username or password")
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise SignInRefused("wrong username or password") from None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        user.last_login_at = utcnow()
        s.add(user)
        s.commit()
        return _account(user)


def account_for(engine: Engine, username: str) -> Account | None:
    """The account as it is now, or None when it was removed or deactivated since sign-in."""
    with session(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        return _account(user) if user is not None and user.active else None


def external_username(email: str, subject: str = "") -> str:
    """A username for an OIDC identity: the email, else the subject with unusual characters replaced."""
    name = email.strip().lower() if email else subject.strip()
    return _NOT_IN_USERNAME.sub("-", name).lstrip("._@+-")[:128]


def sign_in_external(engine: Engine, *, email: str, name: str = "", subject: str = "") -> Account:
    """An OIDC sign-in: the account is made on first visit; the very first one is an admin.

    Raises SignInRefused for a deactivated account.
    """
    username = check_username(external_username(email, subject))
    with session(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is not None:
            if not user.active:
                raise SignInRefused("this account is deactivated; ask an admin")
            return _account(user)
    role = "annotator" if has_users(engine) else "admin"
    return create_user(engine, username=username, password=None, role=role, display_name=name)


@dataclass(frozen=True, slots=True)
class UserRow:
    username: str
    display_name: str
    role: str
    active: bool
    projects: tuple[str, ...]
    last_login_at: str | None


def list_users(engine: Engine) -> list[UserRow]:
    with session(engine) as s:
        users = list(s.exec(select(User).order_by(User.username)))
        pairs = s.exec(
            select(Membership.user_id, Project.name).join(Project, Project.id == Membership.project_id)
        ).all()
    by_user: dict[int, list[str]] = {}
    for user_id, project in pairs:
        by_user.setdefault(user_id, []).append(project)
    return [
        UserRow(
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            active=u.active,
            projects=tuple(sorted(by_user.get(u.id, []))),
            last_login_at=u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else None,
        )
        for u in users
    ]


def _user(s, username: str) -> User:
    user = s.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise InvalidValue("username", f"no account {username!r}")
    return user


def _admins_left(s, without: str) -> int:
    return s.exec(select(func.count(User.id)).where(User.role == "admin", User.active, User.username != without)).one()


def update_user(
    engine: Engine,
    *,
    username: str,
    role: str | None = None,
    active: bool | None = None,
    display_name: str | None = None,
    password: str | None = None,
) -> Account:
    """Change an account; refused where it would leave no active admin (two admins demoting each other at once
    take turns on the accounts lock, so the second sees the first's change)."""
    with session(engine) as s:
        locks.hold(s, ACCOUNTS_LOCK)
        user = _user(s, username)
        demoted = (role is not None and role != "admin") or active is False
        if user.role == "admin" and demoted and _admins_left(s, username) == 0:
            raise InvalidValue("role", "this is the last active admin; make another admin first")
        if role is not None:
            user.role = check_role(role)
        if active is not None:
            user.active = active
        if display_name is not None:
            user.display_name = display_name.strip()
        if password is not None:
            user.password_hash = _hasher.hash(check_password(password))
        if password is not None or active is False:
            # A new password or a deactivation signs out every browser that was remembered.
            s.exec(delete(SignInToken).where(SignInToken.user_id == user.id))
            s.exec(delete(SignInHandoff).where(SignInHandoff.user_id == user.id))
        s.add(user)
        s.commit()
        return _account(user)


def set_members(engine: Engine, *, project: str, usernames: list[str]) -> None:
    """Exactly these accounts work on the project."""
    with session(engine) as s:
        project_row = s.exec(select(Project).where(Project.name == project)).first()
        if project_row is None:
            raise InvalidValue("project", f"no project named {project!r}")
        wanted = {_user(s, name).id for name in usernames}
        current = {m.user_id: m for m in s.exec(select(Membership).where(Membership.project_id == project_row.id))}
        for user_id, membership in current.items():
            if user_id not in wanted:
                s.delete(membership)
        for user_id in wanted - current.keys():
            s.add(Membership(project_id=project_row.id, user_id=user_id))
        s.commit()


def members_of(engine: Engine, project: str) -> list[str]:
    with session(engine) as s:
        return list(
            s.exec(
                select(User.username)
                .join(Membership, Membership.user_id == User.id)
                .join(Project, Project.id == Membership.project_id)
                .where(Project.name == project)
                .order_by(User.username)
            )
        )


def projects_for(engine: Engine, account: Account) -> list[str]:
    """The projects an account may open: all of them for an admin, else those it is a member of."""
    with session(engine) as s:
        query = select(Project.name).order_by(Project.created_at, Project.id)
        if not account.is_admin:
            query = (
                query.join(Membership, Membership.project_id == Project.id)
                .join(User, User.id == Membership.user_id)
                .where(User.username == account.username)
            )
        return list(s.exec(query))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(engine: Engine, *, username: str, hours: float) -> str:
    """A secret that keeps this browser signed in for ``hours``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    with session(engine) as s:
        user = _user(s, username)
        for stale in s.exec(select(SignInToken).where(SignInToken.expires_at <= utcnow())):
            s.delete(stale)
        s.add(SignInToken(token_hash=_token_hash(token), user_id=user.id, expires_at=utcnow() + timedelta(hours=hours)))
        s.commit()
    return token


def account_for_token(engine: Engine, token: str) -> Account | None:
    """The account a remembered browser belongs to, while its token is live and the account active."""
    if not token:
        return None
    with session(engine) as s:
        row = s.exec(
            select(User, SignInToken.expires_at)
            .join(SignInToken, SignInToken.user_id == User.id)
            .where(SignInToken.token_hash == _token_hash(token))
        ).first()
    if row is None:
        return None
    user, expires_at = row
    if expires_at.tzinfo is None:  # SQLite returns naive UTC times
        expires_at = expires_at.replace(tzinfo=utcnow().tzinfo)
    if expires_at <= utcnow() or not user.active:
        return None
    return _account(user)


def issue_handoff(engine: Engine, *, username: str) -> str:
    """A one-time code, live for HANDOFF_SECONDS, that the browser exchanges for its HttpOnly sign-in cookie."""
    code = secrets.token_urlsafe(32)
    now = utcnow()
    with session(engine) as s:
        user = _user(s, username)
        s.exec(delete(SignInHandoff).where(SignInHandoff.expires_at <= now))
        s.add(SignInHandoff(code_hash=_token_hash(code), user_id=user.id, expires_at=now + HANDOFF))
        s.commit()
    return code


def redeem_handoff(engine: Engine, code: str, *, hours: float) -> str | None:
    """A new sign-in token for the code's account, once: the code is used up; None when unknown or expired."""
    if not code:
        return None
    now = utcnow()
    with session(engine) as s:
        row = s.exec(select(SignInHandoff).where(SignInHandoff.code_hash == _token_hash(code))).first()
        if row is None:
            return None
        # Deleted by exactly one redeemer: a second one racing for the same code finds nothing to delete.
        gone = s.exec(delete(SignInHandoff).where(SignInHandoff.id == row.id)).rowcount
        expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=now.tzinfo)
        user = s.get(User, row.user_id)
        s.commit()
    if gone != 1 or expires_at <= now or user is None or not user.active:
        return None
    return issue_token(engine, username=user.username, hours=hours)


def revoke_token(engine: Engine, token: str) -> None:
    with session(engine) as s:
        for row in s.exec(select(SignInToken).where(SignInToken.token_hash == _token_hash(token))):
            s.delete(row)
        s.commit()
