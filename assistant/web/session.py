"""Who is logged in to the browser chat, and with which roles."""

from __future__ import annotations

import chainlit as cl


def who() -> str:
    """Return the logged-in user's name."""
    return str(getattr(cl.user_session.get("user"), "identifier", "anonymous"))


def roles() -> list[str]:
    """Return the logged-in user's roles."""
    user = cl.user_session.get("user")
    return list((getattr(user, "metadata", None) or {}).get("roles") or [])
