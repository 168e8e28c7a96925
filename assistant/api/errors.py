"""Errors of the JSON API, all answered as ``{"error": "..."}`` with the right status."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("flowdraft.api")


class ApiError(Exception):
    """An answer other than success: raise it anywhere in a route or its dependencies."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """Return the error as a JSON response."""
        return JSONResponse({"error": self.message}, status_code=self.status, headers=self.headers)


class ApiRoute(APIRoute):
    """A route whose ``ApiError``s and database failures become ``{"error": ...}`` answers.

    Exception handlers belong to an app, not a router; a route class travels with the router
    into whichever app includes it, so the error shape does not depend on that app's setup.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the generated handler so known failures are answered in the API's shape."""
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return exc.response()
            except SQLAlchemyError:
                log.exception("database error on %s %s", request.method, request.url.path)
                return ApiError(503, "the database is unavailable; try again later").response()

        return answer
