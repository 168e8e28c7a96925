"""Bearer-token authentication for the JSON API (tokens from ``flowdraft tokens create``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from assistant.api.errors import ApiError
from assistant.db.tables import ApiToken
from assistant.db.tokens import verify_token

# auto_error=False: a missing header must get our JSON 401, not FastAPI's 403 {"detail": ...}.
bearer_scheme = HTTPBearer(auto_error=False, description="A token from `flowdraft tokens create`.")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def require_token(engine: Engine) -> Callable[..., Awaitable[ApiToken]]:
    """Return a dependency that yields the caller's live token or answers 401."""

    async def authenticated(credentials: Credentials) -> ApiToken:
        if credentials is None:
            raise ApiError(
                401,
                "missing API token: send 'Authorization: Bearer <token>' "
                "(create one with `flowdraft tokens create NAME`)",
                {"WWW-Authenticate": 'Bearer realm="flowdraft"'},
            )
        token = await run_in_threadpool(verify_token, engine, credentials.credentials)
        if token is None:
            raise ApiError(
                401,
                "invalid or revoked API token",
                {"WWW-Authenticate": 'Bearer realm="flowdraft", error="invalid_token"'},
            )
        return token

    return authenticated
