"""`python -m annotation user ...`: accounts from a terminal, e.g. the first admin on a server."""

from __future__ import annotations

import argparse
import getpass
import json
import os
from dataclasses import asdict

from sqlalchemy import Engine

from annotation.accounts.users import ROLES, create_user, list_users, members_of, set_members, update_user
from annotation.core.model import InvalidValue

NAME = "user"
PASSWORD_ENV = "REDLINE_PASSWORD"


def add_parser(sub: argparse._SubParsersAction) -> None:
    user = sub.add_parser("user", help="add, list and change accounts")
    actions = user.add_subparsers(dest="user_action", required=True)
    add = actions.add_parser("add", help=f"add an account; the password is asked for, or read from ${PASSWORD_ENV}")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="annotator")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--project", action="append", default=[], help="a project this account works on (repeatable)")
    actions.add_parser("list", help="every account with its role and projects").add_argument(
        "--json", action="store_true"
    )
    password = actions.add_parser("password", help=f"set a new password (asked for, or ${PASSWORD_ENV})")
    password.add_argument("username")
    role = actions.add_parser("role", help="change an account's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)


def _password() -> str:
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidValue("password", "the two passwords differ")
    return first


def run(args: argparse.Namespace, engine: Engine) -> int:
    if args.user_action == "add":
        account = create_user(
            engine, username=args.username, password=_password(), role=args.role, display_name=args.name
        )
        for project in args.project:
            set_members(engine, project=project, usernames=[*members_of(engine, project), account.username])
        print(f"added {account.username} ({account.role})")
    elif args.user_action == "list":
        users = list_users(engine)
        if args.json:
            print(json.dumps([asdict(u) for u in users]))
            return 0
        for u in users:
            state = "" if u.active else " (inactive)"
            print(f"{u.username}: {u.role}{state}; projects: {', '.join(u.projects) or 'none'}")
    elif args.user_action == "password":
        update_user(engine, username=args.username, password=_password())
        print(f"password changed for {args.username}")
    elif args.user_action == "role":
        update_user(engine, username=args.username, role=args.role)
        print(f"{args.username} is now {args.role}")
    return 0
