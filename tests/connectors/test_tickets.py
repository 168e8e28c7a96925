"""The built-in helpdesk connector on a real SQLite database."""

from sqlmodel import select

from assistant.db.engine import make_engine, session_scope
from assistant.db.tables import HelpdeskComment, HelpdeskTicket
from connectors.tickets import TicketsConnector


async def test_helpdesk_operations_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    desk = TicketsConnector(engine)
    created = await desk.execute(
        "create_ticket",
        {"subject": "Refund", "body": "order 12", "queue": "billing", "priority": "high"},
        "k1",
    )
    again = await desk.execute("create_ticket", {"subject": "Refund", "body": "order 12"}, "k1")
    assert (
        created.status == again.status == "ok"
        and created.external_id == again.external_id == "HD-1"
    )
    assert (
        await desk.execute("comment", {"ticket_id": "HD-1", "body": "on it"}, "c1")
    ).status == "ok"
    assert (
        await desk.execute("comment", {"ticket_id": "HD-1", "body": "on it"}, "c1")
    ).status == "ok"
    assert (
        await desk.execute("set_status", {"ticket_id": "1", "status": "pending"}, "s1")
    ).status == "ok"
    assert (
        await desk.execute("assign", {"ticket_id": "HD-1", "assignee": "lee"}, "a1")
    ).status == "ok"
    with session_scope(engine) as session:
        ticket = session.get(HelpdeskTicket, 1)
        assert ticket is not None and (ticket.status, ticket.assignee, ticket.queue) == (
            "pending",
            "lee",
            "billing",
        )
        assert len(session.exec(select(HelpdeskComment)).all()) == 1
    missing = await desk.execute("comment", {"ticket_id": "HD-99", "body": "x"}, "c2")
    assert missing.status == "failed" and "no ticket HD-99" in missing.detail
    runtime = await desk.execute("assign", {"ticket_id": "{{ticket.id}}", "assignee": "lee"}, "a2")
    assert runtime.status == "skipped"
    invalid = await desk.execute("set_status", {"ticket_id": "HD-1", "status": "exploded"}, "s2")
    assert invalid.status == "failed" and "status" in invalid.detail
