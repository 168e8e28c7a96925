"""Users and their roles: keyword-only CRUD over the ``User`` table."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from functools import cache
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.tables import User
from assistant.schemas import ROLES

KNOWN_ROLES = (*ROLES, "admin")
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class UserError(ValueError):
    """Raised for a user operation that cannot be done, with the reason."""


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of ``password``."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    """Tell whether ``password`` matches the stored hash."""
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


@cache
def stand_in_hash() -> str:
    """Return a hash of a random password, checked when the user is unknown or has none."""
    return hash_password(os.urandom(16).hex())


def verify_login(engine: Engine, *, name: str, password: str) -> User | None:
    """Return the user ``name`` if ``password`` is theirs, taking as long whoever asks.

    An unknown name, or a user without a password, still pays for one scrypt check, so the
    time an answer takes does not tell which user names exist.
    """
    user = get_user(engine, name=name)
    stored = user.password_hash if user is not None and user.password_hash else None
    matches = check_password(password, stored or stand_in_hash())
    return user if matches and stored else None


def normalise_roles(roles: list[str]) -> str:
    """Validate role names and return them comma-joined."""
    cleaned = [r.strip().lower() for r in roles if r.strip()]
    unknown = [r for r in cleaned if r not in KNOWN_ROLES]
    if unknown:
        raise UserError(f"unknown role(s) {', '.join(unknown)}; known: {', '.join(KNOWN_ROLES)}")
    return ",".join(dict.fromkeys(cleaned))


def add_user(
    engine: Engine,
    *,
    name: str,
    roles: list[str],
    password: str | None = None,
    email: str | None = None,
) -> User:
    """Create a user; raise ``UserError`` if the name is taken or a role is unknown."""
    name = name.strip()
    if not name:
        raise UserError("a user needs a name")
    role_text = normalise_roles(roles)
    with session_scope(engine) as session:
        if session.exec(select(User).where(User.name == name)).first():
            raise UserError(f"user {name!r} already exists")
        user = User(
            name=name,
            roles=role_text,
            email=email.lower() if email else None,
            password_hash=hash_password(password) if password else None,
        )
        session.add(user)
        session.flush()
        session.refresh(user)
        return user


def list_users(engine: Engine) -> list[User]:
    """Return every user, by name."""
    with session_scope(engine) as session:
        return list(session.exec(select(User).order_by(User.name)).all())


def get_user(engine: Engine, *, name: str) -> User | None:
    """Return the user called ``name``, if any."""
    with session_scope(engine) as session:
        return session.exec(select(User).where(User.name == name)).first()


def remove_user(engine: Engine, *, name: str) -> None:
    """Delete the user called ``name``; raise ``UserError`` if there is none."""
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.name == name)).first()
        if user is None:
            raise UserError(f"no user called {name!r}")
        session.delete(user)


SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def link_slack(engine: Engine, *, name: str, slack_user_id: str) -> User:
    """Tie a Slack user id (U0123ABCD) to the user ``name``; one Flowdraft user per Slack user."""
    slack_user_id = slack_user_id.strip().upper()
    if not SLACK_USER_ID.match(slack_user_id):
        raise UserError(
            f"{slack_user_id!r} is not a Slack user id (like U0123ABCD; "
            "find it in the person's Slack profile under ⋮ → Copy member ID)"
        )
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.name == name)).first()
        if user is None:
            raise UserError(f"no user called {name!r}")
        holder = session.exec(select(User).where(User.slack_user_id == slack_user_id)).first()
        if holder is not None and holder.name != name:
            raise UserError(f"{slack_user_id} is already linked to {holder.name!r}")
        user.slack_user_id = slack_user_id
        session.add(user)
        session.flush()
        session.refresh(user)
        return user


def user_for_slack(engine: Engine, *, slack_user_id: str, email: str | None = None) -> User | None:
    """Return the Flowdraft user behind a Slack user: linked by id, else matched by email.

    A match by email is remembered (the id is linked), so Slack's users.info is asked once.
    """
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.slack_user_id == slack_user_id)).first()
        if user is not None or not email:
            return user
        user = session.exec(select(User).where(User.email == email.lower())).first()
        if user is None or user.slack_user_id:
            return None
        user.slack_user_id = slack_user_id
        session.add(user)
        session.flush()
        session.refresh(user)
        return user


def users_with_roles(engine: Engine, roles: list[str]) -> list[str]:
    """Return the names of users holding any of ``roles`` (or admin)."""
    wanted = set(roles) | {"admin"}
    return [u.name for u in list_users(engine) if wanted & set(u.role_list)]


class Directory(Protocol):
    """Who the users are and which roles they hold."""

    def roles_of(self, name: str) -> list[str] | None:
        """Return the roles of ``name``, or None for an unknown user."""
        ...

    def who_can(self, roles: list[str]) -> list[str]:
        """Return the users holding any of ``roles`` (directly)."""
        ...

    def is_open(self) -> bool:
        """Tell whether no users are configured (roles are then not enforced)."""
        ...


class UserDirectory:
    """The users table as a ``Directory``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def roles_of(self, name: str) -> list[str] | None:
        """Return the roles of ``name``, or None for an unknown user."""
        user = get_user(self.engine, name=name)
        return user.role_list if user else None

    def who_can(self, roles: list[str]) -> list[str]:
        """Return the users holding any of ``roles`` (or admin)."""
        return users_with_roles(self.engine, roles)

    def is_open(self) -> bool:
        """Tell whether the users table is empty."""
        with session_scope(self.engine) as session:
            return session.exec(select(User.id).limit(1)).first() is None


class MemoryDirectory:
    """A ``Directory`` from a dict, for tests."""

    def __init__(self, users: dict[str, list[str]] | None = None) -> None:
        self.users = dict(users or {})

    def roles_of(self, name: str) -> list[str] | None:
        """Return the roles of ``name``, or None for an unknown user."""
        return self.users.get(name)

    def who_can(self, roles: list[str]) -> list[str]:
        """Return the users holding any of ``roles`` (or admin)."""
        wanted = set(roles) | {"admin"}
        return sorted(n for n, held in self.users.items() if wanted & set(held))

    def is_open(self) -> bool:
        """Tell whether no users are configured."""
        return not self.users
