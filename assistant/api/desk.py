"""The desk over JSON, for an external helpdesk that shows Flowdraft's drafts to its agents.

- ``GET /api/queue``: tickets whose reply waits for an agent, most urgent first; within
  one priority, replies whose delivery failed follow the waiting ones, with
  ``status: "failed"`` and the reason in ``delivery`` (only ``retry`` applies to them).
- ``GET /api/tickets/{ref}/reply``: the draft (or the decision) of one ticket.
- ``POST /api/tickets/{ref}/decision`` with ``{"type": "accept" | "edit" | "reject" |
  "retry", "agent"?: "<Flowdraft user>", "body"?: str, "reason"?: str}``: the agent's
  decision; ``retry`` sends a reply whose delivery failed again.

Every call here acts as the user the bearer token belongs to (``flowdraft tokens create
NAME --user USER``), who must hold a support role (support, support_lead or admin): 403
otherwise. ``agent`` may be left out; naming anyone but the token's owner is refused (403).
A token that belongs to no user takes tickets in (``/api/tickets``) but reads no queue and
decides nothing.
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

    type: Literal["accept", "edit", "reject", "retry"]
    agent: str | None = Field(default=None, min_length=1, max_length=80)
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
    async def queue(caller: ApiToken = Depends(authenticated)) -> list[dict[str, Any]]:
        """List the replies waiting for an agent."""
        current = desk()
        acting_agent(current, caller)
        return [describe_item(item) for item in current.queue()]

    @router.get("/tickets/{ref}/reply")
    async def reply(ref: str, caller: ApiToken = Depends(authenticated)) -> dict[str, Any]:
        """Show one ticket's drafted reply and what became of it."""
        current = desk()
        acting_agent(current, caller)
        try:
            return describe_item(current.item(ref))
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
        agent = acting_agent(current, caller, decision.agent)
        try:
            if decision.type == "accept":
                record = await current.accept(ref, agent)
            elif decision.type == "edit":
                record = await current.edit(ref, agent, decision.body or "")
            elif decision.type == "retry":
                record = await current.retry(ref, agent)
            else:
                record = await current.reject(ref, agent, decision.reason or "")
        except DeskError as exc:
            raise ApiError(exc.status, str(exc)) from None
        return {"ticket": ref, **describe_record(record)}

    return router


def acting_agent(desk: SupportDesk, caller: ApiToken, named: str | None = None) -> str:
    """Return the support agent a token acts as; answer 403 for anyone else.

    ``named`` is the ``agent`` a request gives: the token's owner or nobody.
    """
    if caller.owner is None:
        raise ApiError(
            403,
            f"token {caller.name!r} belongs to no user, so it can take tickets in but not work "
            "the desk: create one with `flowdraft tokens create NAME --user USER`",
        )
    if named is not None and named != caller.owner:
        raise ApiError(
            403, f"token {caller.name!r} acts as {caller.owner}; it cannot decide as {named}"
        )
    try:
        desk.check_agent(caller.owner)
    except DeskError as exc:
        raise ApiError(exc.status, str(exc)) from None
    return caller.owner
