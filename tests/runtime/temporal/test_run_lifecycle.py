"""Runs beyond the invoice: human tasks, crashes and retries, schedules, unknown ids."""

from __future__ import annotations

import asyncio
import time

import pytest

from assistant.db.users import MemoryDirectory
from assistant.runtime.plan import RunOptions
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.waiting import inbox_items
from assistant.schemas import Step, WorkflowDraft
from tests.runtime.conftest import delivery_draft, digest_draft
from tests.runtime.temporal.conftest import (
    PEOPLE,
    CrashingConnector,
    Runtime,
    automation_for,
    invoice_draft,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


async def test_a_human_task_waits_for_done(runtime: Runtime) -> None:
    draft = WorkflowDraft(
        title="Check the delivery",
        goal="Someone in the warehouse checks the delivery, then finance hears about it",
        steps=[
            Step(id="s1", title="Check the pallet", kind="human_task", approver_role="manager"),
            Step(
                id="s2",
                title="Tell finance",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#finance", "text": "Delivery {{delivery.ref}} checked"},
            ),
        ],
    ).sealed()
    run = await runtime.engine.start(automation_for(draft), draft, {"delivery": {"ref": "D-1"}})
    run = await runtime.engine.wait(run.id)
    assert run.status == "waiting" and run.steps[0].status == "waiting"
    [task] = inbox_items(run, title=draft.title)
    assert (task.kind, task.approver_role) == ("run_task", "manager")
    assert not (await runtime.engine.decide(run.id, "s1", user="ana", accept=True)).ok
    assert (await runtime.engine.decide(run.id, "s1", user="mia", accept=True)).ok
    run = await runtime.engine.wait(run.id)
    assert run.status == "completed"
    assert run.steps[1].input["text"] == "Delivery D-1 checked"


async def test_unknown_runs_are_not_found(runtime: Runtime) -> None:
    with pytest.raises(KeyError):
        await runtime.engine.run("auto_nope.e1")
    outcome = await runtime.engine.decide("auto_nope.e1", "s1", user="carla", accept=True)
    assert not outcome.ok and "auto_nope.e1" in outcome.message


async def test_an_action_that_keeps_crashing_fails_its_step_and_the_run_can_be_retried(
    runtime: Runtime,
) -> None:
    engine = TemporalEngine(
        runtime.engine.client,
        task_queue=runtime.settings.task_queue,
        directory=MemoryDirectory(PEOPLE),
        journal=runtime.journal,
        options=RunOptions(attempts=2),
    )
    draft = delivery_draft()
    automation = automation_for(draft)
    run = await engine.start(automation, draft, {"delivery": {"ref": "D-2"}})
    run = await engine.wait(run.id)
    assert run.status == "failed"
    assert run.steps[1].status == "failed" and run.steps[1].attempts == 2
    assert "gave up after 2 attempts" in run.steps[1].detail
    assert "the note store is down" in run.steps[1].detail
    with pytest.raises(ValueError):
        await engine.retry(run.id, automation, invoice_draft())

    CrashingConnector.down = False
    try:
        retried = await engine.wait((await engine.retry(run.id, automation, draft)).id)
    finally:
        CrashingConnector.down = True
    assert retried.status == "completed" and retried.id != run.id
    assert retried.steps[0] == run.steps[0]
    performed = [a for a in runtime.actions.actions if a.idempotency_key.startswith(run.id)]
    assert [a.connector for a in performed] == ["slack", "sandbox"]


async def test_a_schedule_fires_runs_of_its_automation(runtime: Runtime) -> None:
    draft = digest_draft()
    automation = automation_for(draft)
    schedules = runtime.engine.schedules
    await schedules.put(automation, draft, "0 9 * * 1", timezone="Europe/Paris")
    try:
        await schedules.trigger(automation.id)
        runs: list[str] = []
        deadline = time.monotonic() + 20
        while not runs:
            assert time.monotonic() < deadline, "the schedule did not fire"
            runs = await schedules.recent_runs(automation.id)
            await asyncio.sleep(0.05)
        run = await runtime.engine.wait(runs[0])
        assert run.status == "completed" and run.automation_id == automation.id
        assert run.steps[0].input["text"] == "Digest v1 (0 9 * * 1)"
    finally:
        await schedules.remove(automation.id)
