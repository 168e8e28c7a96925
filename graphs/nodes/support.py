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
    """Send the (possibly edited) reply where the ticket came from; note it on the ticket."""
    ticket = Ticket.model_validate(state["ticket"])
    reply = ReplyDraft.model_validate(state["reply"])
    decision = state.get("decision") or {}
    body = reply.body
    if decision.get("type") == "edit":
        args = decision.get("args") or {}
        body = str(args.get("body") or (args.get("reply") or {}).get("body") or body)
    connector, operation, params = reply_delivery(
        ticket, body, reply, runtime.context.helpdesk_url, agent=str(decision.get("user") or "")
    )
    key = f"{state['thread']}:reply:{ticket.id}"
    outcome = await runtime.context.registry.get(connector).execute(operation, params, key)
    results = [
        {
            "step_id": "reply",
            "status": outcome.status,
            "detail": f"{connector}.{operation}: {outcome.detail}",
        }
    ]
    ref = state.get("ticket_ref")
    if ref and outcome.status == "ok":
        desk = runtime.context.registry.get("tickets")
        await desk.execute("comment", {"ticket_id": ref, "body": body}, f"{key}:comment")
        await desk.execute("set_status", {"ticket_id": ref, "status": "solved"}, f"{key}:status")
    runtime.context.journal.event(
        "reply_sent",
        actor=str(decision.get("user") or state.get("user", "")),
        thread=state["thread"],
        ticket=ticket.id,
        via=f"{connector}.{operation}",
        status=outcome.status,
    )
    return {
        "results": results,
        "message": message(f"Reply to ticket {ticket.id}: {outcome.status}."),
    }


def reply_delivery(
    ticket: Ticket, body: str, reply: ReplyDraft, helpdesk_url: str, *, agent: str = ""
) -> tuple[str, str, dict[str, Any]]:
    """Return the connector, operation and params that answer ``ticket`` on its channel.

    ``channel`` is ``email`` (the default: to the customer), ``slack:<channel id>:<ts>``
    (in the thread of the Slack message it came from) or ``webhook`` (to the external
    helpdesk at ``FLOWDRAFT_HELPDESK_URL``, with the citations).
    """
    channel = (ticket.channel or "email").strip()
    if channel.startswith("slack:"):
        parts = channel.split(":")
        params: dict[str, Any] = {"channel": parts[1] if len(parts) > 1 else "", "text": body}
        if len(parts) > 2 and parts[2]:
            params["thread_ts"] = parts[2]
        return "slack", "post_message", params
    if channel == "webhook" and helpdesk_url:
        payload = {
            "ticket": ticket.id,
            "reply": body,
            "agent": agent,
            "citations": [c.model_dump(mode="json") for c in reply.citations],
        }
        return "webhook", "post_json", {"url": helpdesk_url, "payload": payload}
    return (
        "email",
        "send_email",
        {"to": [ticket.customer.email], "subject": f"Re: {ticket.subject}", "body": body},
    )
