"""What a browser may do with the server: which other origins may call it with the user's
cookies, and a 400 (not a 500) for a chat request whose body cannot be read."""

from __future__ import annotations

import json

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.strict_json import JsonInputError, load_json

MAX_CHAT_JSON_BYTES = 1_000_000
"""The chat's JSON requests (threads, feedback, actions) are a few kilobytes."""


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


class StrictJsonBodies:
    """ASGI middleware: a JSON body sent under ``prefix`` must be one strict JSON object.

    The chat app's routes take objects; some read ``request.json()`` and call ``.get`` on it
    unguarded, so an array, deep nesting or bad UTF-8 was a 500. Checked here once, the
    body is then handed on unchanged.
    """

    def __init__(self, app: ASGIApp, prefix: str, limit: int = MAX_CHAT_JSON_BYTES) -> None:
        self.app = app
        self.prefix = prefix
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the body of a JSON request under the prefix; pass everything else through."""
        if not self.applies(scope):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.limit:
                refusal = f"the request body is larger than {self.limit:,} bytes"
                await JSONResponse({"detail": refusal}, 413)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        problem = object_problem(bytes(body))
        if problem is not None:
            await JSONResponse({"detail": problem}, 400)(scope, receive, send)
            return
        await self.app(scope, replay(bytes(body), receive), send)

    def applies(self, scope: Scope) -> bool:
        """Tell whether ``scope`` is an HTTP request with a JSON body under the prefix."""
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefix):
            return False
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        return content_type == b"application/json"


def object_problem(body: bytes) -> str | None:
    """Return why ``body`` is not a strict JSON object (an empty body is fine), or None."""
    if not body.strip():
        return None
    try:
        data = load_json(body, what="the request body")
    except JsonInputError as exc:
        return str(exc)
    return None if isinstance(data, dict) else "the request body must be a JSON object"


def replay(body: bytes, receive: Receive) -> Receive:
    """Return a ``receive`` that yields ``body`` once, then whatever the client sends next."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again
