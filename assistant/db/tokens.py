"""Named bearer tokens for the JSON API: create, revoke, list and verify.

Only a sha256 hash of each token is stored. Passwords (``assistant.db.users``) get a slow,
salted scrypt because people choose guessable ones; a token here is 32 random bytes
(256 bits), so no amount of hashing speed makes guessing it feasible, and a fast unsalted
hash lets ``verify_token`` find the token by an indexed lookup on the hash instead of running
a deliberately slow function on every API request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from assistant.db.audit import AuditLog, as_utc
from assistant.db.engine import session_scope
from assistant.db.tables import ApiToken, utcnow
from assistant.db.users import get_user

TOKEN_PREFIX = "fd_"
TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is rewritten at most this often, so a busy caller is not a write per call."""


class TokenError(ValueError):
    """Raised for a token operation that cannot be done, with the reason."""


def hash_token(plaintext: str) -> str:
    """Return the sha256 hex digest stored for ``plaintext``."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_token(
    engine: Engine, *, name: str, owner: str | None = None, created_by: str | None = None
) -> tuple[ApiToken, str]:
    """Create a token called ``name``; return its row and the plaintext, which is not kept.

    ``owner`` is the user the token acts as: decisions made with it are that user's. A token
    without an owner may take tickets in and read them back, but decides nothing.
    Raises ``TokenError`` if the name is malformed or already used (revoked tokens keep
    their name, so a replacement needs a new one), or the owner is not a user.
    """
    name = name.strip()
    if owner is not None and get_user(engine, name=owner) is None:
        raise TokenError(f"no user called {owner!r} (add one with `flowdraft users add`)")
    if not TOKEN_NAME.match(name):
        raise TokenError(
            f"{name!r} is not a usable token name: 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with session_scope(engine) as session:
            if session.exec(select(ApiToken).where(ApiToken.name == name)).first():
                raise TokenError(f"a token called {name!r} already exists; choose another name")
            row = ApiToken(
                name=name, token_hash=hash_token(plaintext), owner=owner, created_by=created_by
            )
            session.add(row)
            session.flush()
            session.refresh(row)
    except IntegrityError:
        raise TokenError(f"a token called {name!r} already exists; choose another name") from None
    AuditLog(engine).append(
        "token_created", actor=created_by or "cli", data={"name": name, "owner": owner}
    )
    return row, plaintext


def revoke_token(engine: Engine, *, name: str, revoked_by: str | None = None) -> ApiToken:
    """Revoke the token called ``name`` (revoking twice keeps the first time).

    Raises ``TokenError`` if there is no such token.
    """
    with session_scope(engine) as session:
        row = session.exec(select(ApiToken).where(ApiToken.name == name)).first()
        if row is None:
            raise TokenError(f"no token called {name!r} (see `flowdraft tokens list`)")
        if row.revoked_at is not None:
            return row
        row.revoked_at = utcnow()
        session.add(row)
    AuditLog(engine).append("token_revoked", actor=revoked_by or "cli", data={"name": name})
    return row


def list_tokens(engine: Engine) -> list[ApiToken]:
    """Return every token, revoked ones included, by name."""
    with session_scope(engine) as session:
        return list(session.exec(select(ApiToken).order_by(ApiToken.name)).all())


def verify_token(engine: Engine, plaintext: str) -> ApiToken | None:
    """Return the live token ``plaintext`` belongs to, or None if it is unknown or revoked.

    The row is found by its hash; the timing of that lookup depends only on the hash, which
    tells an attacker nothing about any stored token. The digests are then compared with
    ``hmac.compare_digest`` all the same. Marks the token used (see ``LAST_USED_RESOLUTION``).
    """
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(plaintext)
    with session_scope(engine) as session:
        row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        if row.revoked_at is not None:
            return None
        now = utcnow()
        if row.last_used_at is None or as_utc(now) - as_utc(row.last_used_at) >= (
            LAST_USED_RESOLUTION
        ):
            row.last_used_at = now
            session.add(row)
        return row
