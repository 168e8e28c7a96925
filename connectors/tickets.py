"""The built-in helpdesk: tickets and comments kept in the app database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from assistant.db.engine import session_scope
from assistant.db.tables import HelpdeskComment, HelpdeskTicket, utcnow
from connectors.base import ActionResult, Connector, Operation, OperationParams
from connectors.kinds import ConnectorSetup, register
from connectors.operations import (
    AssignTicket,
    CommentTicket,
    CreateTicket,
    SetTicketStatus,
    is_runtime,
)

# ASCII digits only (\d also takes other scripts' digits), and few enough for a quick int().
TICKET_ID = re.compile(r"^(?:HD-)?([0-9]{1,19})$", re.IGNORECASE)
MAX_TICKET_NUMBER = 2**63 - 1
"""The largest id a database integer column holds: larger ones name no ticket."""


def ticket_number(ref: str) -> int | None:
    """Return the number in a ticket reference (HD-42 or 42), or None if it names no ticket."""
    match = TICKET_ID.match(ref.strip())
    if match is None:
        return None
    number = int(match.group(1))
    return number if 0 < number <= MAX_TICKET_NUMBER else None


def ticket_label(ticket_id: int) -> str:
    """Return how a helpdesk ticket id is shown: HD-42."""
    return f"HD-{ticket_id}"


@register
class TicketsConnector(Connector):
    """Create, comment on, re-status and assign helpdesk tickets."""

    name = "tickets"
    operations: ClassVar[Mapping[str, Operation]] = {
        "create_ticket": Operation("create_ticket", CreateTicket, "low", "Open a ticket"),
        "comment": Operation("comment", CommentTicket, "low", "Comment on a ticket"),
        "set_status": Operation("set_status", SetTicketStatus, "low", "Change ticket status"),
        "assign": Operation("assign", AssignTicket, "low", "Assign a ticket"),
    }
    setup_hint: ClassVar[str] = "the built-in helpdesk needs the app database"
    listed = 40

    @classmethod
    def from_setup(cls, setup: ConnectorSetup) -> Connector | None:
        """Build the helpdesk over the app database (always real)."""
        return cls(setup.engine)

    def __init__(self, engine: Engine) -> None:
        super().__init__(sandbox=False)
        self.engine = engine

    async def perform(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Apply the operation once per idempotency key."""
        if isinstance(params, CreateTicket):
            return self.create(params, idempotency_key)
        ticket_ref = getattr(params, "ticket_id", "")
        if is_runtime(ticket_ref):
            return ActionResult(
                status="skipped",
                detail=f"needs the ticket from the event ({ticket_ref}); runs when one arrives",
            )
        number = ticket_number(str(ticket_ref))
        if number is None:
            return ActionResult(
                status="failed", detail=f"{ticket_ref!r} is not a helpdesk ticket id like HD-42"
            )
        if isinstance(params, CommentTicket):
            return self.comment(number, params, idempotency_key)
        if isinstance(params, SetTicketStatus):
            return self.update(number, status=params.status)
        assert isinstance(params, AssignTicket)
        return self.update(number, assignee=params.assignee)

    def create(self, params: CreateTicket, key: str) -> ActionResult:
        """Open a ticket, or return the one this key already opened."""
        try:
            with session_scope(self.engine) as session:
                existing = session.exec(
                    select(HelpdeskTicket).where(HelpdeskTicket.key == key)
                ).first()
                if existing is not None:
                    return ActionResult(
                        status="ok",
                        detail=f"{ticket_label(existing.id or 0)} already open",
                        external_id=ticket_label(existing.id or 0),
                    )
                ticket = HelpdeskTicket(
                    key=key,
                    subject=params.subject,
                    body=params.body,
                    queue=params.queue,
                    priority=params.priority,
                )
                session.add(ticket)
                session.flush()
                label = ticket_label(ticket.id or 0)
        except IntegrityError:
            return self.create(params, key)  # a concurrent creator won; report its ticket
        return ActionResult(
            status="ok", detail=f"opened {label} in {params.queue}", external_id=label
        )

    def comment(self, number: int, params: CommentTicket, key: str) -> ActionResult:
        """Add a comment once per key."""
        with session_scope(self.engine) as session:
            if session.get(HelpdeskTicket, number) is None:
                return ActionResult(status="failed", detail=f"no ticket {ticket_label(number)}")
            if (
                session.exec(select(HelpdeskComment).where(HelpdeskComment.key == key)).first()
                is None
            ):
                session.add(HelpdeskComment(key=key, ticket_id=number, body=params.body))
        return ActionResult(
            status="ok",
            detail=f"commented on {ticket_label(number)}",
            external_id=ticket_label(number),
        )

    def update(self, number: int, **changes: str) -> ActionResult:
        """Set fields of a ticket (idempotent by nature)."""
        with session_scope(self.engine) as session:
            ticket = session.get(HelpdeskTicket, number)
            if ticket is None:
                return ActionResult(status="failed", detail=f"no ticket {ticket_label(number)}")
            for field, value in changes.items():
                setattr(ticket, field, value)
            ticket.updated_at = utcnow()
            session.add(ticket)
        what = ", ".join(f"{k}={v}" for k, v in changes.items())
        return ActionResult(
            status="ok", detail=f"{ticket_label(number)}: {what}", external_id=ticket_label(number)
        )
