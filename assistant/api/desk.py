"""The desk over JSON, for an external helpdesk that shows Flowdraft's drafts to its agents.

- ``GET /api/queue``: tickets whose reply waits for an agent, most urgent first.
- ``GET /api/tickets/{ref}/reply``: the draft (or the decision) of one ticket.
- ``POST /api/tickets/{ref}/decision`` with ``{"type": "accept" | "edit" | "reject",
  "agent": "<Flowdraft user>", "body"?: str, "reason"?: str}``: the agent's decision.

The bearer token authenticates the integration; ``agent`` names the person deciding, who
must hold a support role (support, support_lead or admin) once users are set up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from starlette.requests import Request

from assistant.api.auth import require_token
from assistant.api.bodies import parse_model, read_body
from assistant.api.errors import ApiError, ApiRoute
from assistant.db.tables import ApiToken, TicketReply
from assistant.support.desk import DeskError, QueueItem, SupportDesk

MAX_DECISION_BYTES = 200_000


class Decision(BaseModel):
    """An agent's decision on a drafted reply."""

    model_config = {"extra": "forbid"}

    type: Literal["accept", "edit", "reject"]
    agent: str = Field(min_length=1, max_length=80)
    body: str | None = Field(default=None, max_length=100_000)
    reason: str | None = Field(default=None, max_length=500)


def describe_item(item: QueueItem) -> dict[str, Any]:
    """Return a ticket with its draft and evidence, as the API shows it."""
    return {
        "ticket": item.ref,
        "id": item.ticket.id,
        "subject": item.ticket.subject,
        "body": item.ticket.body,
        "customer": item.ticket.customer.model_dump(mode="json"),
        "channel": item.ticket.channel or "email",
        **describe_record(item.record),
        "citations": [c.model_dump(mode="json") for c in item.citations],
    }


def describe_record(record: TicketReply) -> dict[str, Any]:
    """Return the draft and the decision of one reply."""
    return {
        "status": record.status,
        "route": record.route,
        "confidence": record.confidence,
        "category": record.category,
        "priority": record.priority,
        "draft": record.drafted_body,
        "decision": record.decision,
        "agent": record.agent,
        "sent_body": record.final_body,
        "reason": record.reason,
        "delivery": record.delivery,
    }


def desk_router(engine: Engine, desk: Callable[[], SupportDesk]) -> APIRouter:
    """Return the desk router; ``desk`` returns the running server's support desk."""
    router = APIRouter(prefix="/api", tags=["desk"], route_class=ApiRoute)
    authenticated = require_token(engine)

    @router.get("/queue")
    async def queue(_: ApiToken = Depends(authenticated)) -> list[dict[str, Any]]:
        """List the replies waiting for an agent."""
        return [describe_item(item) for item in desk().queue()]

    @router.get("/tickets/{ref}/reply")
    async def reply(ref: str, _: ApiToken = Depends(authenticated)) -> dict[str, Any]:
        """Show one ticket's drafted reply and what became of it."""
        try:
            return describe_item(desk().item(ref))
        except DeskError as exc:
            raise ApiError(404, str(exc)) from None

    @router.post("/tickets/{ref}/decision")
    async def decide(
        ref: str, request: Request, caller: ApiToken = Depends(authenticated)
    ) -> dict[str, Any]:
        """Accept, edit or reject a drafted reply on behalf of an agent."""
        raw = await read_body(request, MAX_DECISION_BYTES)
        decision = parse_model(raw, Decision, what="decision")
        current = desk()
        try:
            if decision.type == "accept":
                record = await current.accept(ref, decision.agent)
            elif decision.type == "edit":
                record = await current.edit(ref, decision.agent, decision.body or "")
            else:
                record = await current.reject(ref, decision.agent, decision.reason or "")
        except DeskError as exc:
            raise ApiError(exc.status, str(exc)) from None
        return {"ticket": ref, **describe_record(record)}

    return router
