"""A queued reply whose delivery failed is shown in the web chat with its reason and only a
Retry button; a waiting draft keeps its decisions."""

from __future__ import annotations

from assistant.db.tables import TicketReply
from assistant.schemas import Customer, Ticket
from assistant.support.desk import QueueItem
from assistant.web.desk_cards import card, item_actions

TICKET = Ticket(
    id="ZD-1",
    subject="Where is my parcel?",
    body="It shipped four days ago.",
    customer=Customer(email="kim@customer.example", name="Kim Ode"),
    channel="email",
)


def queued(**fields: object) -> QueueItem:
    record = TicketReply.model_validate(
        {"ticket_id": 1, "thread": "ticket-HD-1", "drafted_body": "Hi Kim", **fields}
    )
    return QueueItem(ref="HD-1", ticket=TICKET, record=record)


def test_a_failed_delivery_offers_only_retry_and_says_why() -> None:
    item = queued(status="failed", decision="accepted", delivery="failed: cannot reach SMTP")
    actions = item_actions(item)
    assert [(a.name, a.label, a.payload) for a in actions] == [
        ("reply_retry", "Retry sending", {"ref": "HD-1"})
    ]
    assert "Sending failed: failed: cannot reach SMTP" in card(item)


def test_a_waiting_draft_offers_the_decisions() -> None:
    item = queued()
    assert [a.name for a in item_actions(item)] == ["reply_accept", "reply_edit", "reply_reject"]
    assert "Sending failed" not in card(item)


def test_the_card_after_sending_shows_what_was_sent() -> None:
    item = queued(
        status="sent", decision="edited", final_body="Hi Kim, it arrives Friday.", delivery="ok"
    )
    shown = card(item)
    assert "it arrives Friday" in shown and "Drafted reply" not in shown


def test_a_ticket_handed_on_offers_writing_or_handing_on_again() -> None:
    item = queued(route="human", reason="escalated to the support lead by sam: privacy")
    assert [a.label for a in item_actions(item)] == ["Edit reply", "Hand on to the support lead"]
    assert "escalated to the support lead by sam" in card(item)
