"""The event a stored support ticket gives automations, and which automations a new ticket starts.

An automation's trigger is *a new ticket* when it is an ``event`` or ``webhook`` trigger and
either its steps read the ticket (a ``ticket.*`` field in ``trigger.fields``, as the shipped
``ticket-routing`` and ``password-reset`` playbooks do), or its steps read no event field at
all and its detail names a ticket ("When a new ticket arrives, post in #support"). Schedules
and manual triggers never are, and neither is an event trigger whose steps read other event
fields only (an invoice, a lead): a ticket would only be refused by it.

The ticket event (``ticket_event``), one per stored intake ticket::

    {
      "id": "ticket-HD-12",                 # event id: one run per automation per ticket
      "ticket": {
        "id": "HD-12",                      # helpdesk reference: what the tickets connector acts on
        "external_id": "ZD-4711",           # the caller's Ticket.id
        "subject": "...", "body": "...",
        "channel": "email",                 # where the reply goes (Ticket.channel), if given
        "source": "api",                    # how it came in: api | cli | slack
        "received_at": "2026-12-01T05:40:00+00:00"
      },
      "customer": {"email": "jo@customer.example", "name": "Jo Park"}
    }

Values the ticket does not have (no channel, no customer name) are left out, so a step
that uses one is refused naming the field, like any event missing a field.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.db.tables import HelpdeskTicket
from assistant.db.tickets import utc_iso
from assistant.runtime.models import Automation, AutomationTrigger
from connectors.tickets import ticket_label

TICKET_ROOT = "ticket"
"""The event field whose use marks an automation as fed by new tickets."""
EVENT_TRIGGERS = ("event", "webhook")
NAMES_A_TICKET = re.compile(r"\btickets?\b", re.IGNORECASE)


def takes_new_tickets(trigger: AutomationTrigger) -> bool:
    """Tell whether a new support ticket is what starts runs of an automation with ``trigger``.

    Example:
        >>> takes_new_tickets(AutomationTrigger(kind="event", fields=["ticket.id"]))
        True
        >>> takes_new_tickets(AutomationTrigger(kind="event", fields=["invoice.amount"]))
        False
    """
    if trigger.kind not in EVENT_TRIGGERS:
        return False
    roots = {field.split(".")[0] for field in trigger.fields}
    if TICKET_ROOT in roots:
        return True
    return not roots and bool(NAMES_A_TICKET.search(trigger.detail))


def ticket_event_id(row_id: int) -> str:
    """Return the event id of the helpdesk ticket ``row_id`` (``ticket-HD-12``)."""
    return f"ticket-{ticket_label(row_id)}"


def ticket_event(row: HelpdeskTicket) -> dict[str, Any]:
    """Return the event that starts runs for the stored intake ticket ``row``."""
    row_id = row.id or 0
    ticket = {
        "id": ticket_label(row_id),
        "external_id": row.external_id,
        "subject": row.subject,
        "body": row.body,
        "channel": row.channel,
        "source": row.source,
        "received_at": utc_iso(row.created_at),
    }
    customer = {"email": row.customer_email, "name": row.customer_name}
    return {
        "id": ticket_event_id(row_id),
        "ticket": {key: value for key, value in ticket.items() if value is not None},
        "customer": {key: value for key, value in customer.items() if value is not None},
    }


def fed_by_tickets(automations: list[Automation]) -> list[Automation]:
    """Return the live (active, shadow or paused) automations that new tickets start.

    Paused ones are kept: they refuse the ticket, and the refusal is audited with its reason.
    """
    return [
        automation
        for automation in automations
        if automation.status != "retired" and takes_new_tickets(automation.trigger)
    ]
