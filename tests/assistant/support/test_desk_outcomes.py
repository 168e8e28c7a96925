"""What an agent's decision leads to when things go wrong: a broken subject, a dead SMTP
server, a crash between sending and recording, a decision from someone without the role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from assistant.api.desk import describe_item
from assistant.db.audit import AuditLog
from assistant.db.tickets import get_ticket, store_ticket
from assistant.db.users import add_user
from assistant.schemas import ReviewResponse, Ticket
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.support import draft_ticket_reply
from assistant.support.decisions import claim
from assistant.support.desk import DeskError, NotAgent, SupportDesk
from assistant.web.process import free_port
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner
from tests.support.live import services_with
from tests.support.servers import SmtpInbox

pytestmark = pytest.mark.integration

PARCEL = {
    "id": "EXT-80",
    "subject": "Where is my parcel?",
    "body": "My order shipped four days ago. How do I track it?",
    "customer": {"email": "kim@customer.example", "name": "Kim Ode"},
}


@dataclass
class Bench:
    """A desk over a fresh database whose email goes to SMTP on ``port`` (maybe not running)."""

    services: Services
    desk: SupportDesk
    port: int
    inbox: SmtpInbox

    def fresh_desk(self) -> SupportDesk:
        """Return a desk as a restarted server builds it: same database and checkpoints."""
        return SupportDesk(self.services, self.desk.runner)

    async def ticket(self, **fields: object) -> str:
        row, _ = store_ticket(
            self.services.engine, Ticket.model_validate({**PARCEL, **fields}), source="api"
        )
        await self.desk.draft(row.id or 0)
        return f"HD-{row.id}"


@pytest.fixture
def bench(services: Services, tmp_path: Path) -> Bench:
    port = free_port()
    credentials = ConnectorSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    built = services_with(
        services, tmp_path / "home", credentials, connector_attempts=1, connector_timeout=2
    )
    add_user(built.engine, name="sam", roles=["support"])
    add_user(built.engine, name="ana", roles=["manager"])
    runner = ChatRunner(build_chat_graph(InMemorySaver()), built.context())
    return Bench(built, SupportDesk(built, runner), port, SmtpInbox())


@pytest.fixture
def smtp(bench: Bench) -> Iterator[SmtpInbox]:
    controller = Controller(bench.inbox, hostname="127.0.0.1", port=bench.port)
    controller.start()
    try:
        yield bench.inbox
    finally:
        controller.stop()


@pytest.mark.parametrize("separator", ["\r", "\n", "\u2028", "\u2029", "\x85", "\v", "\f"])
async def test_a_line_break_in_the_ticket_subject_still_gets_the_reply_sent(
    bench: Bench, smtp: SmtpInbox, separator: str
) -> None:
    ref = await bench.ticket(subject=f"Where is{separator}Bcc: all@evil.example my parcel?")
    record = await bench.desk.accept(ref, "sam")
    assert record.status == "sent", record.delivery
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Subject"] == "Re: Where is Bcc: all@evil.example my parcel?"
    assert smtp.messages[0]["Bcc"] is None


async def test_a_failed_delivery_can_be_retried_by_an_agent(bench: Bench) -> None:
    ref = await bench.ticket()
    failed = await bench.desk.accept(ref, "sam")  # nothing listens on the SMTP port yet
    assert failed.status == "failed" and "cannot reach SMTP server" in failed.delivery
    with pytest.raises(DeskError, match=r"sending failed .* retry the delivery"):
        await bench.desk.accept(ref, "sam")
    with pytest.raises(NotAgent):
        await bench.desk.retry(ref, "ana")
    waiting = await bench.ticket(id="EXT-81")
    queued = [describe_item(item) for item in bench.desk.queue()]  # as GET /api/queue lists it
    assert [(q["ticket"], q["status"]) for q in queued] == [(waiting, "waiting"), (ref, "failed")]
    assert "cannot reach SMTP server" in queued[1]["delivery"]
    assert (bench.desk.waiting(), bench.desk.failed()) == (1, 1)

    controller = Controller(bench.inbox, hostname="127.0.0.1", port=bench.port)
    controller.start()
    try:
        sent = await bench.desk.retry(ref, "sam")
    finally:
        controller.stop()
    assert sent.status == "sent" and sent.decision == "accepted" and sent.agent == "sam"
    assert len(bench.inbox.messages) == 1
    row = get_ticket(bench.services.engine, row_id=sent.ticket_id)
    assert row is not None and row.status == "solved"
    with pytest.raises(DeskError, match="only a failed delivery can be retried"):
        await bench.desk.retry(ref, "sam")


async def test_a_crash_after_sending_is_recorded_as_sent_on_the_next_start(
    bench: Bench, smtp: SmtpInbox
) -> None:
    ref = await bench.ticket()
    item = bench.desk.item(ref)
    # What a process killed right after delivery leaves: the decision stored, then sent.
    claim(bench.services.engine, item, "waiting", "sending", decision="accepted", agent="sam")
    decision = ReviewResponse(type="accept", user="sam")
    async for _ in bench.desk.runner.send_decision(item.record.thread, decision):
        pass
    assert len(smtp.messages) == 1

    await bench.fresh_desk().draft_pending()
    record = bench.desk.item(ref).record
    assert record.status == "sent" and record.delivery.startswith("ok: email.send_email")
    assert len(smtp.messages) == 1  # recorded, not sent again


async def test_a_crash_before_sending_is_finished_on_the_next_start(
    bench: Bench, smtp: SmtpInbox
) -> None:
    ref = await bench.ticket()
    item = bench.desk.item(ref)
    claim(
        bench.services.engine,
        item,
        "waiting",
        "sending",
        decision="edited",
        agent="sam",
        final_body="Track it here.",
    )
    await bench.fresh_desk().draft_pending()
    record = bench.desk.item(ref).record
    assert record.status == "sent" and record.decision == "edited"
    assert len(smtp.messages) == 1 and "Track it here." in str(smtp.messages[0])


async def test_the_review_itself_refuses_a_non_agent_and_a_malformed_answer(
    bench: Bench, smtp: SmtpInbox
) -> None:
    ref = await bench.ticket()
    thread = bench.desk.item(ref).record.thread
    runner = bench.desk.runner
    config = runner.config(thread)
    context = runner.context
    # Straight into the graph, as a channel that skipped the desk's own check would.
    for answer in (
        {"type": "accept", "user": "ana"},
        {"type": "ignore", "user": "ana"},
        {"type": "edit", "args": {"body": "Sent by ana"}, "user": "ana"},
        "yes please",
        {"type": "edit", "args": "not an object", "user": "sam"},
    ):
        async for _ in runner.graph.astream(Command(resume=answer), config, context=context):
            pass
        pending = await runner.pending_review(thread)
        assert pending is not None, answer
        assert pending.action_request.args["refused"]["reason"]
    assert not smtp.messages
    refusals = [
        r
        for r in AuditLog(bench.services.engine).records(thread=thread)
        if r.event == "reply_decision_refused"
    ]
    assert [r.actor for r in refusals] == ["ana", "ana", "ana", "unknown", "sam"]

    record = await bench.desk.accept(ref, "sam")
    assert record.status == "sent" and len(smtp.messages) == 1


async def test_refunds_over_the_matrix_limits_go_to_a_person(bench: Bench) -> None:
    small = await bench.ticket(
        id="EXT-81", subject="Refund", body="Please refund the $45 shipping fee on my order."
    )
    large = await bench.ticket(
        id="EXT-82",
        subject="Refund",
        body="I demand a refund of $4,800 for the laptops, or I dispute the charge.",
    )
    assert bench.desk.item(small).record.route == "draft"
    assert bench.desk.item(large).record.route == "human"


async def test_a_one_off_reply_draft_routes_a_large_refund_to_a_person(services: Services) -> None:
    demand = Ticket.model_validate(
        {**PARCEL, "subject": "Refund", "body": "Refund the €12,500 I paid for the servers now."}
    )
    small = Ticket.model_validate(
        {**PARCEL, "subject": "Refund", "body": "Refund the €20 gift wrap, it never came."}
    )
    assert (await draft_ticket_reply(services, demand)).route == "human"
    assert (await draft_ticket_reply(services, small)).route == "draft"
