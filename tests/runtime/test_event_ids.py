"""Concurrent events with one id start one run, on one engine or on two sharing a database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from assistant.db.users import UserDirectory
from assistant.policy.rules import load_policy
from assistant.runtime import store
from assistant.runtime.activation import activate
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.models import AlreadyStarted, Automation, Run
from assistant.runtime.service import AutomationDesk
from assistant.schemas import WorkflowDraft
from tests.runtime.conftest import invoice, invoice_draft


class Gate:
    """Hold every start until ``expected`` of them have arrived, as slow network calls would."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.arrived = 0
        self.open = asyncio.Event()

    async def pass_through(self) -> None:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.open.set()
        await self.open.wait()


class SlowEngine(MemoryEngine):
    """The in-memory engine whose starts wait at a shared ``gate`` first."""

    def __init__(self, gate: Gate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    async def start(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        await self.gate.pass_through()
        return await super().start(automation, draft, event)

    async def start_new(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        await self.gate.pass_through()
        return await super().start_new(automation, draft, event)


async def race(desks: list[AutomationDesk], automation_id: str, event: dict) -> list[bool]:
    """Start ``event`` on every desk at once, all past the index lookup; return who created."""
    started = await asyncio.gather(*(d.start(automation_id, event, actor="hook") for d in desks))
    assert len({s.run.id for s in started}) == 1
    return sorted(s.created for s in started)


def desk(db: Engine, people: UserDirectory, gate: Gate) -> AutomationDesk:
    engine = SlowEngine(gate, db=db, directory=people)
    return AutomationDesk(db, engine, directory=people, policy=load_policy())


async def test_one_engine_creates_one_run_for_concurrent_starts(
    db: Engine, people: UserDirectory
) -> None:
    live = activate(db, draft=invoice_draft(), approvals=["carol"], owner="ana").automation
    one = desk(db, people, Gate(2))
    assert await race([one, one], live.id, invoice(5000, event_id="inv-7")) == [False, True]
    assert len(store.list_runs(db)) == 1


async def test_two_replicas_sharing_a_database_create_one_run(
    db: Engine, people: UserDirectory
) -> None:
    live = activate(db, draft=invoice_draft(), approvals=["carol"], owner="ana").automation
    gate = Gate(2)
    replicas = [desk(db, people, gate), desk(db, people, gate)]
    assert await race(replicas, live.id, invoice(5000, event_id="inv-8")) == [False, True]
    assert len(store.list_runs(db)) == 1


async def test_start_new_refuses_a_repeated_event_id_with_its_run(
    db: Engine, people: UserDirectory
) -> None:
    engine = MemoryEngine(db=db, directory=people)
    draft = invoice_draft()
    live = activate(db, draft=draft, approvals=["carol"], owner="ana").automation
    first = await engine.start_new(live, draft, invoice(5000, event_id="inv-9"))
    with pytest.raises(AlreadyStarted) as caught:
        await engine.start_new(live, draft, invoice(5000, event_id="inv-9"))
    assert caught.value.run.id == first.id
    assert (await engine.start(live, draft, invoice(5000, event_id="inv-9"))).id == first.id
