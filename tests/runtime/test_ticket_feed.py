"""Stored tickets start runs of the automations a new ticket triggers (in-memory engine)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog
from assistant.db.tickets import store_ticket
from assistant.db.users import UserDirectory
from assistant.policy import load_policy
from assistant.runtime import store
from assistant.runtime.activation import activate, derive_trigger
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.models import Automation, AutomationStatus, Run
from assistant.runtime.service import AutomationDesk, NoRunEngine, Started
from assistant.runtime.ticket_events import takes_new_tickets, ticket_event
from assistant.runtime.ticket_feed import TicketFeeder
from assistant.schemas import Step, Trigger, WorkflowDraft
from tests.runtime.conftest import invoice_draft
from tests.runtime.ticket_automations import playbook_draft, ticket, ticket_note_draft


class Engines:
    """A run engine that can be switched off, as when no ``flowdraft serve`` is running."""

    def __init__(self, db: Engine, people: UserDirectory) -> None:
        self.memory = MemoryEngine(db=db, directory=people)
        self.desk = AutomationDesk(db, self.memory, directory=people, policy=load_policy())
        self.up = True

    def __call__(self) -> AutomationDesk:
        if not self.up:
            raise NoRunEngine("no run engine: start `flowdraft serve`")
        return self.desk


@pytest.fixture
def engines(db: Engine, people: UserDirectory) -> Engines:
    return Engines(db, people)


@pytest.fixture
def feeder(db: Engine, engines: Engines) -> TicketFeeder:
    return TicketFeeder(db, engines)


def live(db: Engine, draft: WorkflowDraft, status: AutomationStatus = "active") -> Automation:
    return activate(db, draft=draft, approvals=["carol"], owner="ana", status=status).automation


def runs_of(db: Engine, automation: Automation) -> list[Run]:
    return store.list_runs(db, automation_id=automation.id)


def take_in(db: Engine, ticket_id: str = "ZD-4711") -> int:
    row, _ = store_ticket(db, ticket(ticket_id), source="api", actor="token:zendesk")
    assert row.id is not None
    return row.id


async def test_a_new_ticket_starts_one_run_with_its_real_values(
    db: Engine, feeder: TicketFeeder
) -> None:
    note = live(db, ticket_note_draft())
    row_id = take_in(db)

    fed = await feeder.feed(row_id)
    again = await feeder.feed(row_id)

    assert fed.runs and not fed.refused and fed.waiting is None
    [run] = runs_of(db, note)
    assert run.status == "completed" and fed.runs == {note.id: run.id}
    assert run.event["id"] == "ticket-HD-1"
    assert run.steps[0].input == {
        "ticket_id": "HD-1",
        "body": "From jo@customer.example via api: Where is my parcel?",
    }
    assert run.steps[1].input["text"] == "New ticket HD-1 (ZD-4711)"
    assert again.runs == {} and again.already
    fed_records = [r for r in AuditLog(db).records(thread="HD-1") if r.event == "ticket_fed"]
    assert len(fed_records) == 1 and json.loads(fed_records[0].data)["runs"] == fed.runs


async def test_the_same_ticket_stored_twice_starts_one_run(
    db: Engine, feeder: TicketFeeder, engines: Engines
) -> None:
    note = live(db, ticket_note_draft())
    first = take_in(db)
    second = take_in(db)  # the same Ticket.id: the same helpdesk row
    assert first == second
    await asyncio.gather(feeder.feed(first), feeder.feed(second))
    assert len(runs_of(db, note)) == 1
    assert len(engines.memory.runs) == 1


async def test_refusals_are_audited_and_do_not_stop_the_other_runs(
    db: Engine, feeder: TicketFeeder
) -> None:
    routing = live(db, playbook_draft("ticket-routing", "Route every new support ticket"))
    paused = live(db, ticket_note_draft("wf_paused_note"), status="paused")
    note = live(db, ticket_note_draft())
    row_id = take_in(db)

    fed = await feeder.feed(row_id)

    assert set(fed.runs) == {note.id}
    assert "customer.plan" in fed.refused[routing.id]
    assert "paused" in fed.refused[paused.id]
    assert runs_of(db, routing) == [] and runs_of(db, paused) == []
    refused = {
        json.loads(r.data)["automation"]: json.loads(r.data)["reason"]
        for r in AuditLog(db).records()
        if r.event == "run_refused"
    }
    assert refused == fed.refused


async def test_only_automations_a_new_ticket_triggers_are_fed(
    db: Engine, feeder: TicketFeeder
) -> None:
    invoices = live(db, invoice_draft())
    reset = live(db, playbook_draft("password-reset", "Help customers locked out of their account"))
    row_id = take_in(db)

    fed = await feeder.feed(row_id)

    assert set(fed.runs) == {reset.id} and fed.refused == {}
    assert runs_of(db, invoices) == []
    [run] = runs_of(db, reset)
    assert run.steps[0].input["ticket_id"] == "HD-1"


async def test_an_automation_activated_after_the_ticket_is_not_fed_it(
    db: Engine, feeder: TicketFeeder
) -> None:
    row_id = take_in(db)
    note = live(db, ticket_note_draft())
    fed = await feeder.feed(row_id)
    assert fed.runs == {} and runs_of(db, note) == []


async def test_a_ticket_waits_for_a_run_engine_and_is_fed_once_one_runs(
    db: Engine, feeder: TicketFeeder, engines: Engines
) -> None:
    note = live(db, ticket_note_draft())
    engines.up = False
    row_id = take_in(db)
    take_in(db, "ZD-4712")

    waiting = await feeder.feed(row_id)
    assert waiting.waiting is not None and "flowdraft serve" in waiting.waiting
    assert runs_of(db, note) == []
    assert await feeder.feed_pending() == 0  # still no engine: both still wait

    engines.up = True
    assert await feeder.feed_pending() == 2
    assert sorted(r.event["id"] for r in runs_of(db, note)) == ["ticket-HD-1", "ticket-HD-2"]
    assert await feeder.feed_pending() == 0


class InterruptedDesk(AutomationDesk):
    """A desk whose engine fails after starting the first run (the engine went away)."""

    calls = 0

    async def start(self, automation_id: str, event: dict[str, Any], *, actor: str) -> Started:
        InterruptedDesk.calls += 1
        if InterruptedDesk.calls == 2:
            raise ConnectionError("the Temporal frontend went away")
        return await super().start(automation_id, event, actor=actor)


async def test_a_feed_cut_off_midway_is_finished_without_a_second_run(
    db: Engine, people: UserDirectory
) -> None:
    first = live(db, ticket_note_draft("wf_a"))
    second = live(db, ticket_note_draft("wf_b"))
    desk = InterruptedDesk(
        db, MemoryEngine(db=db, directory=people), directory=people, policy=load_policy()
    )
    feeder = TicketFeeder(db, lambda: desk)
    row_id = take_in(db)

    cut = await feeder.feed(row_id)
    assert cut.waiting is not None and "went away" in cut.waiting
    assert await feeder.feed_pending() == 1

    assert len(runs_of(db, first)) == 1 and len(runs_of(db, second)) == 1


class HeldDesk(AutomationDesk):
    """A desk whose run starts wait until the test lets them go."""

    released = asyncio.Event()

    async def start(self, automation_id: str, event: dict[str, Any], *, actor: str) -> Started:
        await HeldDesk.released.wait()
        return await super().start(automation_id, event, actor=actor)


async def test_nudging_returns_at_once_and_the_run_starts_on_the_side(
    db: Engine, people: UserDirectory
) -> None:
    note = live(db, ticket_note_draft())
    HeldDesk.released = asyncio.Event()
    desk = HeldDesk(
        db, MemoryEngine(db=db, directory=people), directory=people, policy=load_policy()
    )
    feeder = TicketFeeder(db, lambda: desk)
    row_id = take_in(db)

    feeder.nudge(row_id)
    feeder.nudge(row_id)  # a second nudge while the first is feeding adds nothing
    assert runs_of(db, note) == []
    HeldDesk.released.set()
    await feeder.settle()

    assert len(runs_of(db, note)) == 1


def trigger_of(kind: str, detail: str, steps: list[Step]) -> Any:
    trigger = Trigger.model_validate({"kind": kind, "detail": detail})
    draft = WorkflowDraft(title="t", goal="g", trigger=trigger, steps=steps)
    return derive_trigger(draft, "au_x")[0]


def test_a_new_ticket_triggers_event_automations_that_read_the_ticket() -> None:
    post = Step(id="s1", title="post", kind="action", params={"text": "{{ticket.subject}}"})
    plain = Step(id="s1", title="post", kind="action", params={"text": "A ticket came in"})
    invoice = Step(id="s1", title="post", kind="action", params={"text": "{{invoice.amount}}"})
    assert takes_new_tickets(trigger_of("event", "Something happens", [post]))
    assert takes_new_tickets(trigger_of("webhook", "", [post]))
    assert takes_new_tickets(trigger_of("event", "When a new ticket arrives", [plain]))
    assert not takes_new_tickets(trigger_of("event", "An invoice arrives", [plain]))
    assert not takes_new_tickets(
        trigger_of("event", "An invoice arrives in the ticket queue", [invoice])
    )
    assert not takes_new_tickets(trigger_of("schedule", "Every Monday at 9am", [post]))
    assert not takes_new_tickets(trigger_of("manual", "A new ticket", [post]))
    library = {
        slug: takes_new_tickets(derive_trigger(playbook_draft(slug, "g"), "au_x")[0])
        for slug in ("ticket-routing", "password-reset", "invoice-triage", "claims-intake")
    }
    assert library == {
        "ticket-routing": True,
        "password-reset": True,
        "invoice-triage": False,
        "claims-intake": False,
    }


def test_the_ticket_event_carries_the_ticket_and_its_customer(db: Engine) -> None:
    from assistant.db.tickets import get_ticket

    row = get_ticket(db, row_id=take_in(db))
    assert row is not None
    event = ticket_event(row)
    received = event["ticket"].pop("received_at")
    assert received.endswith("+00:00")
    assert event == {
        "id": "ticket-HD-1",
        "ticket": {
            "id": "HD-1",
            "external_id": "ZD-4711",
            "subject": "Where is my parcel?",
            "body": "I ordered a lamp on Monday and the tracking page has not moved since.",
            "channel": "email",
            "source": "api",
        },
        "customer": {"email": "jo@customer.example", "name": "Jo Park"},
    }


async def test_a_shadow_automation_runs_on_the_ticket_and_only_records_its_actions(
    db: Engine, feeder: TicketFeeder, engines: Engines
) -> None:
    shadowed = live(db, ticket_note_draft(), status="shadow")
    fed = await feeder.feed(take_in(db))
    [run] = runs_of(db, shadowed)
    assert fed.runs == {shadowed.id: run.id} and run.shadow and run.status == "completed"
    assert [a["performed"] for a in engines.memory.actions] == [False, False]
