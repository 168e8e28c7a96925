"""``POST /api/tickets`` and ``GET /api/tickets/{ref}``: support tickets in, their status out.

Every request needs ``Authorization: Bearer <token>``. Errors are ``{"error": "..."}``:
401 no or bad token, 413 body over ``MAX_TICKET_BYTES``, 400 not JSON, 422 not a ``Ticket``,
404 unknown ticket, 503 database down. Nothing is stored unless the answer is 202.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.api.auth import require_token
from assistant.api.bodies import parse_model, read_body
from assistant.api.errors import ApiError, ApiRoute
from assistant.channels.tickets import MAX_TICKET_BYTES
from assistant.db.tables import ApiToken
from assistant.db.tickets import TicketError, describe_ticket, find_ticket, store_ticket
from assistant.policy.rules import Destinations
from assistant.schemas import Ticket
from connectors.tickets import ticket_label

log = logging.getLogger("flowdraft.api")

OnTicket = Callable[[int], Awaitable[None]]
"""Called with the helpdesk row id of each newly stored ticket (e.g. to draft a reply)."""


def tickets_router(
    engine: Engine, on_ticket: OnTicket | None = None, destinations: Destinations | None = None
) -> APIRouter:
    """Return the tickets API router; mount it with ``app.include_router(...)``.

    ``on_ticket`` runs as a FastAPI background task: the 202 is sent first, then the task
    runs in the same process, and the server waits for it on a graceful shutdown. It runs
    once per new ticket (never for a duplicate); if it fails the ticket stays stored and the
    failure is logged. ``destinations`` (the policy's) decide which Slack channels a
    ticket's reply may be sent to; without them no ``slack:`` channel is taken in.
    """
    router = APIRouter(prefix="/api/tickets", tags=["tickets"], route_class=ApiRoute)
    authenticated = require_token(engine)

    @router.post("", status_code=202)
    async def receive_ticket(
        request: Request, background: BackgroundTasks, caller: ApiToken = Depends(authenticated)
    ) -> JSONResponse:
        """Store a ticket once per id and queue it for a drafted reply."""
        ticket = parse_model(await read_body(request, MAX_TICKET_BYTES), Ticket, what="ticket")
        try:
            row, created = await run_in_threadpool(
                store_ticket,
                engine,
                ticket,
                source="api",
                actor=f"token:{caller.name}",
                destinations=destinations,
            )
        except TicketError as exc:
            raise ApiError(422, f"ticket does not match the contract: {exc}") from None
        reference = ticket_label(row.id or 0)
        if not created:
            return JSONResponse(
                {"ticket": reference, "id": row.external_id, "status": "duplicate"},
                status_code=200,
            )
        if on_ticket is not None and row.id is not None:
            background.add_task(announce, on_ticket, row.id)
        return JSONResponse(
            {"ticket": reference, "id": row.external_id, "status": "queued"}, status_code=202
        )

    @router.get("/{ref:path}")
    async def show_ticket(ref: str, caller: ApiToken = Depends(authenticated)) -> dict[str, Any]:
        """Return a stored ticket by reference (HD-12) or by the caller's own ticket id."""
        row = await run_in_threadpool(find_ticket, engine, ref=ref)
        if row is None:
            raise ApiError(404, f"no ticket {ref!r}")
        return describe_ticket(row)

    return router


async def announce(on_ticket: OnTicket, row_id: int) -> None:
    """Run ``on_ticket`` for a stored ticket, logging (not raising) its failure."""
    try:
        await on_ticket(row_id)
    except Exception:
        # The response went out long ago; an exception here would only reach the server log.
        log.exception("on_ticket failed for %s", ticket_label(row_id))
