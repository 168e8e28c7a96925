"""LangGraph Server's custom auth for the served chat graph: a Flowdraft API token names the user.

``langgraph.json`` points at ``auth``. A request carries a token made with
``flowdraft tokens create NAME --user USER`` as ``Authorization: Bearer <token>`` or as
``X-Api-Key`` (the key Agent Inbox and Agent Chat UI send); it acts as that user, so the
graph's decisions and audit name them (``langgraph_auth_user``). With no users configured
(open mode, as in every other channel) requests without a token are let in as "anonymous".
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph_sdk import Auth

from assistant.db.tokens import verify_token
from graphs.process import STATE_UPDATER, process_services

auth = Auth()


@auth.authenticate
async def authenticate(
    authorization: str | None, headers: dict[Any, Any]
) -> Auth.types.MinimalUserDict:
    """Return the user a request's Flowdraft API token acts as; refuse a bad or missing one."""
    token = bearer(authorization) or header(headers, "x-api-key")
    services = await asyncio.to_thread(process_services)
    if not token:
        if await asyncio.to_thread(services.directory.is_open):
            return {"identity": "anonymous", "is_authenticated": False}
        raise Auth.exceptions.HTTPException(
            status_code=401, detail="a Flowdraft API token is required (Bearer or X-Api-Key)"
        )
    row = await asyncio.to_thread(verify_token, services.engine, token)
    if row is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="unknown or revoked token")
    if not row.owner:
        raise Auth.exceptions.HTTPException(
            status_code=403, detail=f"token {row.name!r} acts as no user, so it may not decide"
        )
    return {"identity": row.owner, "is_authenticated": True}


@auth.on.threads.update
async def on_thread_update(ctx: Auth.types.AuthContext, value: Auth.types.ThreadsUpdate) -> None:
    """Let the update through, remembering who made it (a resolve is journaled as theirs)."""
    STATE_UPDATER.set(ctx.user.identity if ctx.user.is_authenticated else None)


def bearer(authorization: str | None) -> str:
    """Return the token of an ``Authorization: Bearer`` header, or ''."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def header(headers: dict[Any, Any], name: str) -> str:
    """Return a request header's value as text, whether the keys are bytes or text."""
    value = headers.get(name.encode()) or headers.get(name) or b""
    return value.decode() if isinstance(value, bytes) else str(value)
