"""How a support ticket reads in the web chat: its card, its buttons, its outcome line."""

from __future__ import annotations

import chainlit as cl

from assistant.db.tables import TicketReply
from assistant.rendering import code_block, literal, quoted, safe_markdown
from assistant.support.desk import QueueItem
from assistant.web.sandbox import sandbox_line


def card(item: QueueItem, status: str | None = None) -> str:
    """Return a ticket and its draft as markdown: the customer's words, then the reply."""
    record, ticket = item.record, item.ticket
    customer = literal(ticket.customer.name or ticket.customer.email)
    lines = [
        f"### {item.ref}: {literal(ticket.subject)}",
        f"*From {customer} · {record.category}/{record.priority} · confidence "
        f"{record.confidence:.2f} · reply by {literal(ticket.channel or 'email')}*",
        "",
        quoted(ticket.body, max_lines=40),
        "",
    ]
    if record.final_body and record.status in ("sent", "failed", "sending"):
        lines += ["**Reply as sent**", "", code_block(record.final_body)]
    elif item.needs_writing:
        lines.append(
            "**Routed to a person**: this needs your own answer. The sources are the evidence "
            "found; write the reply with **Edit**."
        )
        if escalated(record):
            lines += ["", f"⤴️ {literal(record.reason or '')}"]
    else:
        lines += ["**Drafted reply**", "", code_block(record.drafted_body)]
    if status is None and record.status == "failed":
        status = failed_line(record.delivery)
    if status:
        lines += ["", safe_markdown(status)]
    return "\n".join(lines)


def escalated(record: TicketReply) -> bool:
    """Tell whether a waiting ticket was handed on to the support lead."""
    return record.status == "waiting" and (record.reason or "").startswith("escalated")


def failed_line(delivery: str) -> str:
    """Return the status line of a reply whose delivery failed, with the reason."""
    return f"❌ Sending failed: {delivery}"


def retry_action(ref: str) -> cl.Action:
    """Return the button that sends a failed reply again."""
    return cl.Action(name="reply_retry", payload={"ref": ref}, label="Retry sending")


def item_actions(item: QueueItem) -> list[cl.Action]:
    """Return a queued ticket's buttons: Retry for a failed delivery, else the decisions."""
    if item.record.status == "failed":  # decided already: only sending it again is left
        return [retry_action(item.ref)]
    payload = {"ref": item.ref}
    actions = (
        []
        if item.needs_writing
        else [cl.Action(name="reply_accept", payload=payload, label="Accept")]
    )
    # Rejecting a ticket nobody has answered hands it on to the support lead (the desk's rule).
    reject = "Hand on to the support lead" if item.needs_writing else "Reject"
    return [
        *actions,
        cl.Action(name="reply_edit", payload=payload, label="Edit reply"),
        cl.Action(name="reply_reject", payload=payload, label=reject),
    ]


def outcome_line(record: TicketReply) -> str:
    """Return what became of a decided reply: sent, only recorded (sandbox), rejected, failed."""
    sandboxed = sandbox_line(record.delivery)
    if record.status == "sent" and sandboxed:
        return f"Reply {record.decision} by {record.agent}, **not sent**. {sandboxed}"
    if record.status == "sent":
        return f"✅ Reply {record.decision} and sent by {record.agent} ({record.delivery})."
    if record.status == "rejected":
        return f"🚫 Rejected by {record.agent}: {record.reason}"
    return failed_line(record.delivery)
