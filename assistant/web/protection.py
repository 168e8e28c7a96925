"""What a browser may do with the server: which other origins may call it with the user's
cookies, and a 400 (not a 500) for a chat request whose body cannot be read."""

from __future__ import annotations

import json

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def allow_origins(app: FastAPI, origins: list[str]) -> None:
    """Let pages of ``origins`` (and no others) call ``app`` with the user's credentials.

    With no origins nothing is added: the server's own pages are same-origin and need no
    CORS headers, and any other site gets none, so its scripts cannot read the answers.
    """
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )


def answer_unreadable_bodies(app: FastAPI) -> None:
    """Answer 400 when a route of ``app`` fails to read its JSON body (bad UTF-8, bad JSON,
    nesting too deep), instead of a 500 and a traceback.

    For the mounted chat app, some of whose routes read ``request.json()`` unguarded. Call
    it before the app serves its first request (handlers are fixed then).
    """

    async def unreadable(_: Request, exc: Exception) -> Response:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        return JSONResponse({"detail": f"the request body cannot be read: {reason}"}, 400)

    for error in (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        app.add_exception_handler(error, unreadable)
