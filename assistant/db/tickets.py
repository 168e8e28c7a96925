"""Support tickets taken in from customers, stored once per Ticket.id in the helpdesk table.

Intake (the API, the CLI, Slack) stores a ``Ticket`` as a ``HelpdeskTicket`` row with its
``external_id`` set; the row's helpdesk reference (HD-12) is what the rest of Flowdraft and
the caller use from then on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from assistant.db.audit import AuditLog, as_utc
from assistant.db.engine import session_scope
from assistant.db.tables import HelpdeskTicket
from assistant.policy.rules import Destinations
from assistant.schemas import Customer, Ticket
from connectors.operations import EMAIL
from connectors.tickets import ticket_label, ticket_number

TicketSource = Literal["api", "cli", "slack"]
MAX_TICKET_ID_CHARS = 200


class TicketError(ValueError):
    """Raised for a ticket that cannot be stored or read back, with the reason."""


def store_ticket(
    engine: Engine,
    ticket: Ticket,
    *,
    source: TicketSource,
    actor: str | None = None,
    destinations: Destinations | None = None,
) -> tuple[HelpdeskTicket, bool]:
    """Store ``ticket`` unless its id is already stored; return the row and whether it is new.

    The same ``Ticket.id`` from any source is one ticket: the first copy wins and later ones
    get the existing row back unchanged. Each new ticket gets a ``ticket_received`` audit
    event on the thread named by its reference (HD-12), written by ``actor`` (default: the
    source). Raises ``TicketError`` for an unknown source, an unusable id, a customer email
    that is not an address, or a reply channel the policy's ``destinations`` do not allow.
    """
    if source not in get_args(TicketSource):
        raise TicketError(f"unknown ticket source {source!r}; use one of {get_args(TicketSource)}")
    external_id = ticket.id.strip()
    if not external_id:
        raise TicketError("id: must not be blank")
    if len(external_id) > MAX_TICKET_ID_CHARS:
        raise TicketError(f"id: must be at most {MAX_TICKET_ID_CHARS} characters")
    check_intake(ticket, source, destinations)
    existing = find_by_external_id(engine, external_id)
    if existing is not None:
        return existing, False
    try:
        with session_scope(engine) as session:
            row = HelpdeskTicket(
                key=f"intake:{external_id}",
                external_id=external_id,
                subject=ticket.subject,
                body=ticket.body,
                customer_email=ticket.customer.email,
                customer_name=ticket.customer.name,
                channel=ticket.channel,
                source=source,
            )
            session.add(row)
            session.flush()
            session.refresh(row)
    except IntegrityError:
        # A concurrent intake of the same id won the insert: answer with its row.
        winner = find_by_external_id(engine, external_id)
        if winner is None:
            raise
        return winner, False
    reference = ticket_label(row.id or 0)
    AuditLog(engine).append(
        "ticket_received",
        actor=actor or source,
        thread=reference,
        data={"ticket": reference, "id": external_id, "source": source},
    )
    return row, True


def check_intake(ticket: Ticket, source: str, destinations: Destinations | None) -> None:
    """Refuse a ticket whose reply could not go, or must not go, where it asks.

    The customer's email must be an address. A ``slack:<channel>:<ts>`` channel given by the
    caller (API, CLI) must pass the policy's Slack allow list; the Slack app sets it itself
    for a message an agent took in there, so ``slack`` tickets keep their channel.
    """
    email = ticket.customer.email.strip()
    if not EMAIL.match(email) or email != ticket.customer.email:
        raise TicketError(f"customer.email: {ticket.customer.email!r} is not an email address")
    channel = (ticket.channel or "").strip()
    if source == "slack" or not channel.startswith("slack:"):
        return
    target = channel.split(":")[1] if channel.count(":") else ""
    if destinations is None or not destinations.slack_channel.match(target):
        allowed = destinations.slack_channel_pattern if destinations else "none configured"
        raise TicketError(
            f"channel: replies may not go to Slack channel {target!r}: the policy's "
            f"destinations allow only channels matching {allowed}"
        )


def find_by_external_id(engine: Engine, external_id: str) -> HelpdeskTicket | None:
    """Return the intake ticket stored for the caller's ``Ticket.id``, if any."""
    with session_scope(engine) as session:
        return session.exec(
            select(HelpdeskTicket).where(HelpdeskTicket.external_id == external_id)
        ).first()


def get_ticket(engine: Engine, *, row_id: int) -> HelpdeskTicket | None:
    """Return the helpdesk row ``row_id`` (the number in HD-12), if any."""
    with session_scope(engine) as session:
        return session.get(HelpdeskTicket, row_id)


def find_ticket(engine: Engine, *, ref: str) -> HelpdeskTicket | None:
    """Return the intake ticket named by ``ref``: a reference like HD-12, else the caller's id.

    Only the ``HD-<n>`` form is read as a reference, so a caller's numeric id such as
    "12345" still finds its own ticket.
    """
    ref = ref.strip()
    if ref.upper().startswith("HD-") and (number := ticket_number(ref)) is not None:
        row = get_ticket(engine, row_id=number)
        return row if row is not None and row.external_id is not None else None
    return find_by_external_id(engine, ref)


def list_tickets(engine: Engine, *, limit: int | None = None) -> list[HelpdeskTicket]:
    """Return intake tickets oldest first (only the newest ``limit`` when given)."""
    with session_scope(engine) as session:
        query = (
            select(HelpdeskTicket)
            .where(col(HelpdeskTicket.external_id).is_not(None))
            .order_by(col(HelpdeskTicket.id).desc())
        )
        if limit is not None:
            query = query.limit(limit)
        return list(reversed(session.exec(query).all()))


def as_ticket(row: HelpdeskTicket) -> Ticket:
    """Return the ``Ticket`` contract a stored intake row was made from.

    Raises ``TicketError`` for a helpdesk row that did not come in through intake.
    """
    if row.external_id is None or row.customer_email is None:
        raise TicketError(f"{ticket_label(row.id or 0)} was not taken in from a customer")
    return Ticket(
        id=row.external_id,
        subject=row.subject,
        body=row.body,
        customer=Customer(email=row.customer_email, name=row.customer_name),
        channel=row.channel,
    )


def describe_ticket(row: HelpdeskTicket) -> dict[str, Any]:
    """Return a stored intake ticket as JSON: the ``Ticket`` fields plus reference and status."""
    return {
        "ticket": ticket_label(row.id or 0),
        **as_ticket(row).model_dump(mode="json"),
        "status": row.status,
        "source": row.source,
        "received_at": utc_iso(row.created_at),
    }


def utc_iso(moment: datetime) -> str:
    """Return ``moment`` as ISO 8601 in UTC with an explicit offset."""
    return as_utc(moment).replace(tzinfo=UTC).isoformat()
