"""The same event id posted twice at the same moment starts one run and is answered once 202."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from assistant.api.automations import automations_router
from assistant.policy.rules import load_policy
from assistant.runtime.activation import Activation, activate
from assistant.runtime.service import AutomationDesk
from tests.runtime.conftest import invoice, invoice_draft
from tests.runtime.temporal.conftest import Runtime

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


def desk_over(runtime: Runtime, db: Engine) -> AutomationDesk:
    """Return the desk over the test's database and the module's Temporal engine."""
    return AutomationDesk(
        db, runtime.engine, directory=runtime.engine.directory, policy=load_policy()
    )


def live_invoices(db: Engine) -> Activation:
    """Activate the invoice automation (a hook trigger) in ``db``."""
    return activate(db, draft=invoice_draft(), approvals=["carla"], owner="ana")


async def received(runtime: Runtime, automation_id: str, run_id: str) -> list[tuple[str, str]]:
    """Return (run, step) of each action the receiver got from ``automation_id``, once done."""
    run = await runtime.engine.wait(run_id)
    assert run.status == "completed", run
    keys = [action.idempotency_key for action in runtime.actions.actions]
    mine = [key.split(":") for key in keys if key.startswith(f"{automation_id}.")]
    return sorted((parts[0], parts[-1]) for parts in mine)


async def test_concurrent_starts_of_one_event_id_create_one_run(
    runtime: Runtime, db: Engine
) -> None:
    live = live_invoices(db)
    desk = desk_over(runtime, db)
    event = invoice(5000, event_id=f"inv-{uuid.uuid4().hex[:8]}")
    first, second = await asyncio.gather(
        desk.start(live.automation.id, event, actor="hook"),
        desk.start(live.automation.id, event, actor="hook"),
    )
    assert sorted([first.created, second.created]) == [False, True]
    assert first.run.id == second.run.id
    keys = await received(runtime, live.automation.id, first.run.id)
    assert keys == [(first.run.id, "s1"), (first.run.id, "s6")]


async def test_concurrent_hooks_with_one_event_id_answer_202_once(
    runtime: Runtime, db: Engine
) -> None:
    live = live_invoices(db)
    desk = desk_over(runtime, db)
    app = FastAPI()
    app.include_router(automations_router(db, lambda: desk))
    event = invoice(5000, event_id=f"inv-{uuid.uuid4().hex[:8]}")
    auth = {"Authorization": f"Bearer {live.hook_token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdraft.test") as http:
        answers = await asyncio.gather(
            http.post(live.automation.trigger.hook or "", json=event, headers=auth),
            http.post(live.automation.trigger.hook or "", json=event, headers=auth),
        )
    assert sorted(a.status_code for a in answers) == [200, 202], [a.text for a in answers]
    (run_id,) = {a.json()["run"] for a in answers}
    keys = await received(runtime, live.automation.id, run_id)
    assert keys == [(run_id, "s1"), (run_id, "s6")]
