"""Decision deadlines on a real Temporal dev server: reminders, escalation up the tiers, expiry.

The dev server has no time-skipping, so the policy here sets deadlines of seconds (hours
given as fractions) and the tests poll the run's state until a deadline has passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.worker import Replayer

from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.policy import load_policy
from assistant.policy.rules import Deadline
from assistant.runtime.activities import RunActivities
from assistant.runtime.models import FINISHED, Run
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.waiting import inbox_items
from assistant.runtime.worker import build_worker
from assistant.runtime.workflows import RunAutomation
from assistant.schemas import Step, WorkflowDraft
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog
from tests.runtime.temporal.conftest import PEOPLE, Runtime, automation_for, invoice, invoice_draft

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

SECOND = 1 / 3600
"""One second, in the policy's hours."""
QUEUE = "flowdraft-deadlines"


@dataclass
class Deadlines:
    """An engine whose worker runs a policy with deadlines of seconds."""

    engine: TemporalEngine
    journal: MemoryJournal


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def quick(runtime: Runtime) -> AsyncIterator[Deadlines]:
    """Run a worker on this module's dev server whose policy's deadlines are seconds long."""
    policy = load_policy()
    policy.approvals = policy.approvals.model_copy(
        update={
            "deadlines": {
                "default": Deadline(
                    remind_after=1 * SECOND, escalate_after=2 * SECOND, expire_after=600 * SECOND
                ),
                "lapsing": Deadline(
                    escalate_after=1 * SECOND, expire_after=3 * SECOND, topics=["lapse"]
                ),
            }
        }
    )
    journal = MemoryJournal()
    client = runtime.engine.client
    activities = RunActivities(ConnectorRegistry.sandboxed(ActionLog()), journal, policy)
    engine = TemporalEngine(
        client, task_queue=QUEUE, directory=MemoryDirectory(PEOPLE), journal=journal
    )
    async with build_worker(client, activities, task_queue=QUEUE):
        yield Deadlines(engine, journal)


async def until(engine: TemporalEngine, run_id: str, holds: Callable[[Run], bool]) -> Run:
    """Return the run once ``holds`` is true of it; fail after 30 seconds."""
    deadline = time.monotonic() + 30
    while True:
        run = await engine.run(run_id)
        if holds(run):
            return run
        assert time.monotonic() < deadline, f"run {run_id} never got there: {run}"
        await asyncio.sleep(0.2)


def step(run: Run, step_id: str) -> dict[str, object]:
    """Return the status, detail and input of one step of ``run``."""
    record = next(s for s in run.steps if s.step_id == step_id)
    return {"status": record.status, "detail": record.detail, **record.input}


async def test_an_unanswered_sign_off_escalates_and_the_next_tier_completes_it(
    quick: Deadlines,
) -> None:
    draft = invoice_draft()
    run = await quick.engine.start(automation_for(draft), draft, invoice(50000))
    run = await quick.engine.wait(run.id)
    waiting = next(s for s in run.steps if s.status == "waiting")
    [item] = inbox_items(run, title=draft.title)
    assert item.approver_role == "cfo" and item.due_at is not None
    assert waiting.started_at is not None
    assert item.due_at == waiting.started_at + timedelta(seconds=2)

    run = await until(quick.engine, run.id, lambda r: "escalated_to" in step(r, waiting.step_id))
    assert step(run, waiting.step_id)["escalated_to"] == ["ceo"]
    assert "escalated to ceo" in str(step(run, waiting.step_id)["detail"])
    [item] = inbox_items(run, title=draft.title)
    assert item.request.action_request.args["escalated_to"] == ["ceo"]
    assert "escalated to ceo" in item.request.description
    assert item.due_at == waiting.started_at + timedelta(seconds=600)
    names = [e["event"] for e in quick.journal.events if e.get("run_id") == run.id]
    assert "run_reminded" in names and "run_escalated" in names
    escalated = next(e for e in quick.journal.events if e["event"] == "run_escalated")
    assert (escalated["needs"], escalated["to"]) == (["cfo"], ["ceo"])

    refused = await quick.engine.decide(run.id, waiting.step_id, user="ana", accept=True)
    assert not refused.ok and "ceo" in refused.message
    assert (await quick.engine.decide(run.id, waiting.step_id, user="dan", accept=True)).ok
    run = await quick.engine.wait(run.id)
    assert run.status == "completed"
    # The timers are deterministic: the finished history replays on the workflow code.
    history = await quick.engine.client.get_workflow_handle(run.id).fetch_history()
    replayer = Replayer(
        workflows=[RunAutomation], data_converter=quick.engine.client.data_converter
    )
    await replayer.replay_workflow(history)


async def test_an_unanswered_task_expires_and_the_run_is_cancelled(quick: Deadlines) -> None:
    draft = WorkflowDraft(
        title="Count the stock",
        goal="Someone counts the stock; the request lapses if nobody does",
        steps=[
            Step(id="s1", title="Count the shelf", kind="human_task", approver_role="manager"),
            Step(
                id="s2",
                title="Tell ops",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#ops", "text": "Counted"},
            ),
        ],
    ).sealed()
    run = await quick.engine.start(automation_for(draft), draft, {"shelf": "A4"})
    run = await until(quick.engine, run.id, lambda r: r.status in FINISHED)

    assert run.status == "cancelled"
    assert step(run, "s1")["status"] == "rejected"
    assert "expired" in str(step(run, "s1")["detail"])
    assert step(run, "s2")["status"] == "skipped"
    assert step(run, "s1")["escalated_to"] == ["controller", "sales_lead", "support_lead"]
    assert not inbox_items(run, title=draft.title)
    late = await quick.engine.decide(run.id, "s1", user="mia", accept=True)
    assert not late.ok
    names = [e["event"] for e in quick.journal.events if e.get("run_id") == run.id]
    assert "run_expired" in names


async def test_the_shipped_policy_sets_due_at_two_days_out(runtime: Runtime) -> None:
    draft = invoice_draft()
    run = await runtime.engine.start(automation_for(draft), draft, invoice(50000))
    run = await runtime.engine.wait(run.id)
    waiting = next(s for s in run.steps if s.status == "waiting")
    [item] = inbox_items(run, title=draft.title)
    assert waiting.started_at is not None
    assert item.due_at == waiting.started_at + timedelta(hours=48)
    assert "Due at" in item.request.description
