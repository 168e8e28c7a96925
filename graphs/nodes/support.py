"""Nodes of the ticket-reply path: draft a reply, review it, send it."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from assistant.review import reply_review
from assistant.schemas import Customer, ReplyDraft, ReviewResponse, Ticket
from graphs.context import Context
from graphs.nodes.common import message, passages_of
from graphs.state import ChatState


async def draft_reply(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Draft a reply to the ticket in the user's text."""
    ticket = Ticket.model_validate(state.get("ticket") or ticket_from_text(state))
    reply = await runtime.context.brain.draft_reply(ticket, passages_of(state))
    return {"ticket": ticket.model_dump(mode="json"), "reply": reply.model_dump(mode="json")}


def ticket_from_text(state: ChatState) -> dict[str, Any]:
    """Make a ticket of a pasted customer message."""
    text = state["goal"]
    first = text.strip().splitlines()[0][:120]
    return Ticket(
        id=f"chat-{state['thread']}",
        subject=first,
        body=text,
        customer=Customer(email="customer@unknown.invalid"),
    ).model_dump(mode="json")


async def review_reply(state: ChatState) -> dict[str, Any]:
    """Pause for an agent to accept, edit or reject the drafted reply."""
    ticket = Ticket.model_validate(state["ticket"])
    request = reply_review(ticket, ReplyDraft.model_validate(state["reply"]))
    decision = ReviewResponse.model_validate(interrupt(request.model_dump(mode="json")))
    return {"decision": decision.model_dump(mode="json")}


async def send_reply(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Email the (possibly edited) reply to the customer."""
    ticket = Ticket.model_validate(state["ticket"])
    reply = ReplyDraft.model_validate(state["reply"])
    decision = state.get("decision") or {}
    body = reply.body
    if decision.get("type") == "edit":
        args = decision.get("args") or {}
        body = str(args.get("body") or (args.get("reply") or {}).get("body") or body)
    email = runtime.context.registry.get("email")
    outcome = await email.execute(
        "send_email",
        {"to": [ticket.customer.email], "subject": f"Re: {ticket.subject}", "body": body},
        f"{state['thread']}:reply:{ticket.id}",
    )
    results = [{"step_id": "reply", "status": outcome.status, "detail": outcome.detail}]
    return {
        "results": results,
        "message": message(f"Reply to ticket {ticket.id}: {outcome.status}."),
    }
