"""Drafts of automations a new support ticket starts, and tickets to feed them."""

from __future__ import annotations

from pathlib import Path

from assistant.brain.offline.drafting import draft_from_playbook
from assistant.policy import PolicyChecker, load_policy
from assistant.schemas import Customer, Slots, Step, Ticket, Trigger, WorkflowDraft
from knowledge.library import cached_library

REPO = Path(__file__).resolve().parents[2]


def ticket_note_draft(workflow_id: str = "wf_ticket_note") -> WorkflowDraft:
    """Return a workflow that notes every new ticket on it and tells #support."""
    return WorkflowDraft(
        id=workflow_id,
        version=1,
        title="Note new tickets",
        goal="Note who wrote each new ticket and tell #support",
        trigger=Trigger(kind="event", detail="A customer opens a new support ticket"),
        steps=[
            Step(
                id="s1",
                title="Note who wrote in",
                kind="action",
                connector="tickets",
                operation="comment",
                params={
                    "ticket_id": "{{ticket.id}}",
                    "body": "From {{customer.email}} via {{ticket.source}}: {{ticket.subject}}",
                },
            ),
            Step(
                id="s2",
                title="Tell the support channel",
                kind="action",
                connector="slack",
                operation="post_message",
                params={
                    "channel": "#support",
                    "text": "New ticket {{ticket.id}} ({{ticket.external_id}})",
                },
            ),
        ],
    ).sealed()


def playbook_draft(slug: str, goal: str) -> WorkflowDraft:
    """Draft the shipped playbook ``slug`` the way the offline brain does, checked by policy."""
    library = cached_library(str(REPO / "knowledge" / "library"))
    playbook = next(d for d in library if d.slug == slug and d.kind == "playbook")
    draft = draft_from_playbook(goal, playbook, Slots(), [], load_policy())
    return PolicyChecker().check(draft).sealed()


def ticket(ticket_id: str = "ZD-4711", subject: str = "Where is my parcel?") -> Ticket:
    """Return a customer's ticket."""
    return Ticket(
        id=ticket_id,
        subject=subject,
        body="I ordered a lamp on Monday and the tracking page has not moved since.",
        customer=Customer(email="jo@customer.example", name="Jo Park"),
        channel="email",
    )
