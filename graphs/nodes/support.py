"""Nodes of the ticket-reply path: draft a reply, review it, send it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langgraph.errors import GraphInterrupt
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import ValidationError

from assistant.db.journal import Journal
from assistant.db.users import Directory
from assistant.policy import Policy
from assistant.policy.amounts import largest_amount
from assistant.review import reply_review
from assistant.schemas import Customer, ReplyDraft, ReviewRequest, ReviewResponse, Ticket
from connectors.operations import one_line
from graphs.context import Context
from graphs.nodes.common import message, passages_of, record
from graphs.offers import offered
from graphs.resumes import normalize_answer
from graphs.state import ChatState

"""The roles that may decide on a drafted ticket reply."""


async def draft_reply(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Draft a reply to the ticket in the user's text."""
    ticket = Ticket.model_validate(state.get("ticket") or ticket_from_text(state))
    reply = await runtime.context.brain.draft_reply(ticket, passages_of(state))
    routed = route_by_amount(ticket, reply, runtime.context.policy.policy)
    if routed.route != reply.route:
        amount, roles = money_over_limits(ticket, runtime.context.policy.policy)
        await record(
            runtime.context.journal,
            "reply_routed_to_person",
            actor="flowdraft",
            thread=state["thread"],
            ticket=ticket.id,
            amount=amount,
            roles=roles,
        )
    return {"ticket": ticket.model_dump(mode="json"), "reply": routed.model_dump(mode="json")}


def route_by_amount(ticket: Ticket, reply: ReplyDraft, policy: Policy) -> ReplyDraft:
    """Return ``reply`` routed to a person when the ticket's money is over the matrix's limits.

    Money back to a customer above those limits is a person's decision, whatever the
    wording or the brain's confidence.
    """
    _, roles = money_over_limits(ticket, policy)
    return reply.model_copy(update={"route": "human"}) if roles else reply


def money_over_limits(ticket: Ticket, policy: Policy) -> tuple[float | None, list[str]]:
    """Return the largest sum of money a ticket names and the roles the matrix needs for it.

    A refund or disputed charge is money going back to the customer, so the refund tiers
    apply (the amount tiers when a policy has none). The roles are empty when the amount is
    within every limit or the ticket names no amount.
    """
    largest = largest_amount(f"{ticket.subject}\n{ticket.body}")
    if largest is None:
        return None, []
    refund = bool(policy.approvals.refund_tiers)
    return largest, policy.roles_for_amount(largest, refund=refund)


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


@dataclass(frozen=True)
class Refusal:
    """Why an answer to a reply review was refused; ``forbidden``: the person lacks the role."""

    reason: str
    forbidden: bool = False


def review_reply(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Pause for an agent to accept, edit or reject the drafted reply.

    A plain function: the graph runs it in a worker thread, so the directory and journal
    calls stay off the event loop.

    The node itself checks every answer, whatever channel it came through: a malformed one,
    or one from someone without a support role, is journaled and the review is asked again
    (each ask is a new interrupt, so the refused answer cannot be replayed into it).
    """
    ticket = Ticket.model_validate(state["ticket"])
    request = reply_review(ticket, ReplyDraft.model_validate(state["reply"]))
    refused: tuple[Any, Refusal] | None = None
    while True:
        try:
            answer = normalize_answer(interrupt(offered(request)))
        except GraphInterrupt:
            # Raised only when this ask is the one left open, i.e. right after the answer it
            # refuses arrived: journal the refusal once, not on every replay of the node.
            if refused is not None:
                journal_refusal(runtime.context.journal, state["thread"], *refused)
            raise
        checked = check_reply_decision(
            answer, runtime.context.directory, runtime.context.policy.policy
        )
        if isinstance(checked, ReviewResponse):
            return {"decision": checked.model_dump(mode="json")}
        refused = (answer, checked)
        request = refused_review(request, checked)


def check_reply_decision(
    answer: Any, directory: Directory, policy: Policy
) -> ReviewResponse | Refusal:
    """Return the decision in ``answer`` if it is well formed and its user may make it."""
    try:
        decision = ReviewResponse.model_validate(answer)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "decision"
        return Refusal(f"malformed decision ({where}: {first['msg']})")
    if decision.type not in ("accept", "edit", "ignore"):
        return Refusal(f"a ticket reply takes accept, edit or ignore, not {decision.type!r}")
    if decision.type == "edit" and not edited_body(decision.args):
        return Refusal('an edit needs the reply to send (args: {"body": ...})')
    if directory.is_open():
        return decision
    roles = directory.roles_of(decision.user)
    if roles is None:
        return Refusal(f"{decision.user} is not a known user", forbidden=True)
    if not policy.is_support_agent(roles):
        return Refusal(
            f"{decision.user} is not a support agent (needs {policy.support_agents_text()})",
            forbidden=True,
        )
    return decision


def refused_review(request: ReviewRequest, refusal: Refusal) -> ReviewRequest:
    """Return ``request`` again, saying why the last answer was refused.

    ``args["refused"]`` carries the reason and whether the person lacked the role, so a
    channel can answer "forbidden" without reading the wording.
    """
    refused = {"reason": refusal.reason, "forbidden": refusal.forbidden}
    args = {**request.action_request.args, "refused": refused}
    return request.model_copy(
        update={
            "action_request": request.action_request.model_copy(update={"args": args}),
            "description": f"**Refused:** {refusal.reason}\n\n{request.description}",
        }
    )


def journal_refusal(journal: Journal, thread: str, answer: Any, refusal: Refusal) -> None:
    """Record a refused answer to a reply review, with who sent it when that is readable."""
    user = answer.get("user") if isinstance(answer, dict) else None
    kind = answer.get("type") if isinstance(answer, dict) else None
    journal.event(
        "reply_decision_refused",
        actor=str(user or "unknown"),
        thread=thread,
        type=str(kind or ""),
        reason=refusal.reason,
    )


def edited_body(args: Any) -> str:
    """Return the reply body an edit carries (``{"body"}`` or ``{"reply": {"body"}}``)."""
    if not isinstance(args, dict):
        return ""
    reply = args.get("reply")
    body = args.get("body") or (reply.get("body") if isinstance(reply, dict) else "")
    return str(body or "").strip()


async def send_reply(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Send the (possibly edited) reply where the ticket came from; note it on the ticket."""
    return await deliver_reply(state, runtime.context)


async def deliver_reply(state: ChatState, context: Context) -> dict[str, Any]:
    """Deliver the decided reply of a ticket thread; return the ``results`` and ``message``.

    Delivering again (an agent retrying a failed send) uses the same idempotency keys, so a
    receiver that got the first attempt drops the second.
    """
    ticket = Ticket.model_validate(state["ticket"])
    reply = ReplyDraft.model_validate(state["reply"])
    decision = state.get("decision") or {}
    body = reply.body
    if decision.get("type") == "edit":
        body = edited_body(decision.get("args")) or body
    connector, operation, params = reply_delivery(
        ticket, body, reply, context.helpdesk_url, agent=str(decision.get("user") or "")
    )
    key = f"{state['thread']}:reply:{ticket.id}"
    outcome = await context.registry.get(connector).execute(operation, params, key)
    results = [
        {
            "step_id": "reply",
            "status": outcome.status,
            "detail": f"{connector}.{operation}: {outcome.detail}",
        }
    ]
    ref = state.get("ticket_ref")
    if ref and outcome.status == "ok":
        desk = context.registry.get("tickets")
        await desk.execute("comment", {"ticket_id": ref, "body": body}, f"{key}:comment")
        await desk.execute("set_status", {"ticket_id": ref, "status": "solved"}, f"{key}:status")
    await record(
        context.journal,
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
        # The subject is the customer's text: folded to one line, it cannot add headers.
        {"to": [ticket.customer.email], "subject": f"Re: {one_line(ticket.subject)}", "body": body},
    )
