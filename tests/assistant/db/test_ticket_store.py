"""Ticket intake storage: once per Ticket.id, read back as the contract, audited."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, insert, inspect
from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog, verify
from assistant.db.engine import make_engine
from assistant.db.migrations import HEAD, current_revision
from assistant.db.tables import HelpdeskTicket, utcnow
from assistant.db.tickets import (
    MAX_TICKET_ID_CHARS,
    TicketError,
    as_ticket,
    describe_ticket,
    find_ticket,
    get_ticket,
    list_tickets,
    store_ticket,
)
from assistant.policy import load_policy
from assistant.schemas import Customer, Ticket
from connectors.tickets import TicketsConnector


@pytest.fixture
def engine(database_url: str) -> Engine:
    return make_engine(database_url)


def ticket(ticket_id: str = "ZD-4711", **changes: object) -> Ticket:
    base = Ticket(
        id=ticket_id,
        subject="Refund for order 1042",
        body="The blender arrived broken. Can I get my money back?",
        customer=Customer(email="maria@example.com", name="Maria Lopez"),
        channel="email",
    )
    return base.model_copy(update=changes)


def test_stored_ticket_reads_back_as_the_contract(engine: Engine) -> None:
    row, created = store_ticket(engine, ticket(), source="api", actor="token:zendesk")
    assert created and row.id == 1
    assert (row.source, row.status, row.customer_email) == ("api", "open", "maria@example.com")
    assert as_ticket(row) == ticket()
    fetched = get_ticket(engine, row_id=1)
    assert fetched is not None and as_ticket(fetched) == ticket()
    described = describe_ticket(row)
    assert described["ticket"] == "HD-1" and described["id"] == "ZD-4711"
    assert described["customer"] == {"email": "maria@example.com", "name": "Maria Lopez"}
    assert described["received_at"].endswith("+00:00")


def test_optional_fields_stay_empty(engine: Engine) -> None:
    bare = Ticket(id="t-1", subject="Hi", body="", customer=Customer(email="a@b.example"))
    row, _ = store_ticket(engine, bare, source="cli")
    assert as_ticket(row) == bare


def test_same_id_is_stored_once_whatever_the_source(engine: Engine) -> None:
    first, created = store_ticket(engine, ticket(), source="api")
    again, created_again = store_ticket(engine, ticket(subject="changed subject"), source="slack")
    assert created and not created_again
    assert again.id == first.id and again.subject == "Refund for order 1042"
    assert again.source == "api"
    assert [r.id for r in list_tickets(engine)] == [first.id]


def test_concurrent_intake_of_one_id_stores_it_once(engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: store_ticket(engine, ticket(), source="api"), range(12)))
    assert sum(created for _, created in results) == 1
    assert {row.id for row, _ in results} == {1}
    assert len(list_tickets(engine)) == 1
    assert len(AuditLog(engine).records(thread="HD-1")) == 1


def test_each_new_ticket_is_audited_once(engine: Engine) -> None:
    store_ticket(engine, ticket(), source="api", actor="token:zendesk")
    store_ticket(engine, ticket(), source="api", actor="token:zendesk")
    store_ticket(engine, ticket("ZD-4712"), source="cli")
    log = AuditLog(engine)
    received = [(r.thread, r.actor, r.event) for r in log.records()]
    assert received == [
        ("HD-1", "token:zendesk", "ticket_received"),
        ("HD-2", "cli", "ticket_received"),
    ]
    assert '"id": "ZD-4711"' in log.records(thread="HD-1")[0].data
    assert verify(log) == []


def test_tickets_are_found_by_reference_or_by_their_own_id(engine: Engine) -> None:
    store_ticket(engine, ticket("ZD-1"), source="api")
    store_ticket(engine, ticket("12345"), source="api")
    assert (row := find_ticket(engine, ref="HD-2")) is not None and row.external_id == "12345"
    assert (row := find_ticket(engine, ref="hd-1")) is not None and row.external_id == "ZD-1"
    assert (row := find_ticket(engine, ref="12345")) is not None and row.id == 2
    assert (row := find_ticket(engine, ref="ZD-1")) is not None and row.id == 1
    assert find_ticket(engine, ref="HD-99") is None
    assert find_ticket(engine, ref="nope") is None
    assert [r.external_id for r in list_tickets(engine, limit=1)] == ["12345"]


async def test_connector_tickets_are_not_intake_tickets(engine: Engine) -> None:
    desk = TicketsConnector(engine)
    made = await desk.execute("create_ticket", {"subject": "Internal", "body": "x"}, "k1")
    assert made.external_id == "HD-1"
    store_ticket(engine, ticket(), source="api")
    assert find_ticket(engine, ref="HD-1") is None
    assert [r.id for r in list_tickets(engine)] == [2]
    connector_row = get_ticket(engine, row_id=1)
    assert connector_row is not None
    with pytest.raises(TicketError, match="HD-1 was not taken in from a customer"):
        as_ticket(connector_row)


@pytest.mark.parametrize(
    ("ticket_id", "message"),
    [("", "id: must not be blank"), ("   ", "id: must not be blank"), ("x" * 201, "at most 200")],
)
def test_unusable_ids_are_refused(engine: Engine, ticket_id: str, message: str) -> None:
    assert MAX_TICKET_ID_CHARS == 200
    with pytest.raises(TicketError, match=message):
        store_ticket(engine, ticket(ticket_id), source="api")
    assert list_tickets(engine) == []


def test_unknown_source_is_refused(engine: Engine) -> None:
    with pytest.raises(TicketError, match="unknown ticket source 'fax'"):
        store_ticket(engine, ticket(), source="fax")  # type: ignore[arg-type]


async def test_database_from_before_intake_gains_the_new_columns(database_url: str) -> None:
    # The helpdesk table as it shipped before intake, with one ticket in it.
    current = HelpdeskTicket.__table__  # type: ignore[attr-defined]
    added = ("external_id", "customer_name", "channel", "source")
    old = Table(
        "helpdeskticket",
        MetaData(),
        *(
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in current.columns
            if c.name not in added
        ),
    )
    raw = create_engine(database_url)
    old.create(raw)
    with raw.begin() as conn:
        conn.execute(
            insert(old).values(
                key="k-old",
                subject="Old ticket",
                body="",
                queue="support",
                priority="normal",
                status="open",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    raw.dispose()

    engine = make_engine(database_url)
    make_engine(database_url)  # a second start finds nothing to add
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD
    columns = {c["name"] for c in inspect(engine).get_columns("helpdeskticket")}
    assert set(added) <= columns
    indexes = {i["name"]: i for i in inspect(engine).get_indexes("helpdeskticket")}
    assert indexes["ix_helpdeskticket_external_id"]["unique"]

    desk = TicketsConnector(engine)
    commented = await desk.execute("comment", {"ticket_id": "HD-1", "body": "still here"}, "c1")
    assert commented.status == "ok"
    row, created = store_ticket(engine, ticket(), source="api")
    assert created and find_ticket(engine, ref="ZD-4711") == row
    assert not store_ticket(engine, ticket(), source="cli")[1]


@pytest.mark.parametrize("email", ["maria", "maria@", "maria@example", " maria@example.com"])
def test_a_customer_email_that_is_no_address_is_refused(engine: Engine, email: str) -> None:
    with pytest.raises(TicketError, match=r"customer\.email"):
        store_ticket(engine, ticket(customer=Customer(email=email)), source="cli")
    assert list_tickets(engine) == []


def test_a_slack_reply_channel_must_be_on_the_allow_list(engine: Engine) -> None:
    destinations = load_policy().destinations
    private = ticket(channel="slack:G0PRIVATE:1700000000.1")
    for source in ("api", "cli"):
        with pytest.raises(TicketError, match="channel: replies may not go to Slack channel"):
            store_ticket(engine, private, source=source, destinations=destinations)  # type: ignore[arg-type]
    # The Slack app sets the channel itself, for a message an agent took in there.
    row, created = store_ticket(engine, private, source="slack", destinations=destinations)
    assert created and row.channel == private.channel
    public = ticket("ZD-2", channel="slack:#support:1700000000.1")
    assert store_ticket(engine, public, source="api", destinations=destinations)[1]
