"""First start of the server: data directory, database, library, an admin login, secrets.

Two secrets are made on first start and kept in the data directory with 0600 permissions:
the Chainlit auth secret and the audit key (``assistant.db.audit_seal``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from assistant.db.audit_seal import load_audit_key
from assistant.db.users import UserError, add_user, list_users
from assistant.services import Services

SECRET_FILE = "chainlit-auth-secret"


@dataclass
class FirstStart:
    """What setup did that the person starting the server needs to know."""

    admin_password: str | None


def ensure_auth_secret(home: Path) -> str:
    """Return ``CHAINLIT_AUTH_SECRET``, generating and keeping one in ``home`` when unset."""
    secret = os.environ.get("CHAINLIT_AUTH_SECRET", "")
    if not secret:
        path = home / SECRET_FILE
        if path.exists():
            secret = path.read_text().strip()
        else:
            secret = secrets.token_urlsafe(48)
            path.write_text(secret)
            path.chmod(0o600)
        os.environ["CHAINLIT_AUTH_SECRET"] = secret
    return secret


def ensure_admin(services: Services) -> str | None:
    """Create an ``admin`` login when there are no users; return its new password.

    Replicas starting together on a fresh database may all find no users: the first to
    create ``admin`` prints the password, the others start without one.
    """
    if list_users(services.engine):
        return None
    password = secrets.token_urlsafe(12)
    try:
        add_user(services.engine, name="admin", roles=["admin"], password=password)
    except (UserError, IntegrityError):
        return None  # another replica created it first
    return password


def first_start(services: Services) -> FirstStart:
    """Prepare a fresh machine (idempotent: later starts change nothing)."""
    ensure_auth_secret(services.settings.home)
    load_audit_key(services.settings)
    return FirstStart(admin_password=ensure_admin(services))
