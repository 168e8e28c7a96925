"""The invoice automation end to end on a real Temporal dev server."""

from __future__ import annotations

import asyncio
import time

import pytest

from assistant.db.users import MemoryDirectory
from assistant.runtime.inbox import inbox_items
from assistant.runtime.plan import RunOptions, RunRefused
from assistant.runtime.temporal import TemporalEngine
from assistant.schemas import Step, WorkflowDraft
from tests.runtime.conftest import (
    PEOPLE,
    CrashingConnector,
    Runtime,
    automation_for,
    invoice,
    invoice_draft,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


def statuses(run: object) -> dict[str, str]:
    """Return step id -> status."""
    return {s.step_id: s.status for s in run.steps}  # type: ignore[attr-defined]


async def test_small_invoice_needs_no_sign_off_and_posts_the_real_values(runtime: Runtime) -> None:
    draft = invoice_draft()
    run = await runtime.engine.start(automation_for(draft), draft, invoice(5000))
    run = await runtime.engine.wait(run.id)

    assert run.status == "completed"
    assert [s.status for s in run.steps if s.kind == "approval"] == ["skipped", "skipped"]
    summary = next(s for s in run.steps if s.kind == "action" and "channel" in s.input)
    assert "INV-2291" in summary.input["text"] and "5000" in summary.input["text"]
    posted = [a for a in runtime.actions.actions if a.idempotency_key.startswith(run.id)]
    assert [a.connector for a in posted] == ["webhook", "slack"]
    assert posted[0].params["payload"]["amount"] == 5000
    assert not any("{{" in str(a.params) for a in posted)


async def test_cfo_sign_off_refuses_others_at_once(runtime: Runtime) -> None:
    draft = invoice_draft()
    run = await runtime.engine.start(automation_for(draft), draft, invoice(50000))
    run = await runtime.engine.wait(run.id)
    assert run.status == "waiting"
    approval = next(s for s in run.steps if s.status == "waiting")

    [item] = inbox_items(run, title=draft.title)
    assert (item.kind, item.step_id, item.approver_role) == (
        "run_approval",
        approval.step_id,
        "cfo",
    )
    assert "`invoice.amount`: 50000" in item.request.description
    assert "Parcel Path" in item.request.description

    clerk = await runtime.engine.decide(run.id, approval.step_id, user="ana", accept=True)
    submitter = await runtime.engine.decide(run.id, approval.step_id, user="sam", accept=True)
    assert not clerk.ok and "cfo" in clerk.message and "carla" in clerk.message
    assert not submitter.ok and "separation of duties" in submitter.message
    assert (await runtime.engine.run(run.id)).status == "waiting"

    accepted = await runtime.engine.decide(run.id, approval.step_id, user="carla", accept=True)
    assert accepted.ok, accepted.message
    again = await runtime.engine.decide(run.id, approval.step_id, user="carla", accept=True)
    assert not again.ok

    run = await runtime.engine.wait(run.id)
    assert run.status == "completed"
    assert statuses(run)[approval.step_id] == "ok"
    assert "carla" in next(s for s in run.steps if s.step_id == approval.step_id).detail
    audited = [e for e in runtime.journal.events if e.get("run_id") == run.id]
    names = [e["event"] for e in audited]
    assert {"run_started", "run_action", "run_decision", "run_finished"} <= set(names)
    refused = [e["actor"] for e in audited if e["event"] == "run_decision_refused"]
    assert {"ana", "sam"} <= set(refused)
    assert all(e["thread"] == run.id for e in audited)


async def test_large_invoice_needs_cfo_and_ceo_whatever_the_draft_says(runtime: Runtime) -> None:
    draft = invoice_draft()
    # The draft's own CEO step is removed: policy on the real amount still asks for a CEO.
    draft = draft.model_copy(
        update={"steps": [s for s in draft.steps if s.approver_role != "ceo"]}
    ).sealed()
    run = await runtime.engine.start(automation_for(draft), draft, invoice(150000))
    run = await runtime.engine.wait(run.id)
    approval = next(s for s in run.steps if s.status == "waiting")
    assert set(approval.input["needs"]) == {"cfo", "ceo"}

    first = await runtime.engine.decide(run.id, approval.step_id, user="carla", accept=True)
    assert first.ok and "ceo" in first.message
    assert (await runtime.engine.wait(run.id)).status == "waiting"
    second = await runtime.engine.decide(run.id, approval.step_id, user="dan", accept=True)
    assert second.ok, second.message
    assert (await runtime.engine.wait(run.id)).status == "completed"


async def test_the_playbooks_cfo_then_ceo_steps_each_ask_their_own_role(runtime: Runtime) -> None:
    draft = invoice_draft()
    run = await runtime.engine.start(automation_for(draft), draft, invoice(150000))
    run = await runtime.engine.wait(run.id)
    cfo_step = next(s for s in run.steps if s.status == "waiting")
    assert cfo_step.input["needs"] == ["cfo"]
    assert (await runtime.engine.decide(run.id, cfo_step.step_id, user="carla", accept=True)).ok

    run = await runtime.engine.wait(run.id)
    ceo_step = next(s for s in run.steps if s.status == "waiting")
    assert ceo_step.step_id != cfo_step.step_id and ceo_step.input["needs"] == ["ceo"]
    refused = await runtime.engine.decide(run.id, ceo_step.step_id, user="carla", accept=True)
    assert not refused.ok and "dan" in refused.message
    assert (await runtime.engine.decide(run.id, ceo_step.step_id, user="dan", accept=True)).ok
    run = await runtime.engine.wait(run.id)
    assert run.status == "completed"
    late = await runtime.engine.decide(run.id, ceo_step.step_id, user="dan", accept=True)
    assert not late.ok


async def test_rejection_ends_the_run_without_acting(runtime: Runtime) -> None:
    draft = invoice_draft()
    run = await runtime.engine.start(automation_for(draft), draft, invoice(50000))
    run = await runtime.engine.wait(run.id)
    approval = next(s for s in run.steps if s.status == "waiting")
    outcome = await runtime.engine.decide(
        run.id, approval.step_id, user="carla", accept=False, reason="no PO"
    )
    assert outcome.ok
    run = await runtime.engine.wait(run.id)
    assert run.status == "rejected"
    assert not any(
        a.idempotency_key.startswith(run.id) and a.connector == "slack"
        for a in runtime.actions.actions
    )


async def test_same_event_id_starts_one_run(runtime: Runtime) -> None:
    draft = invoice_draft()
    automation = automation_for(draft)
    event = invoice(5000)
    first = await runtime.engine.start(automation, draft, event)
    await runtime.engine.wait(first.id)
    second = await runtime.engine.start(automation, draft, event)
    assert second.id == first.id
    assert second.status == "completed"
    posted = [a for a in runtime.actions.actions if a.idempotency_key.startswith(first.id)]
    assert len(posted) == 2

    waiting_event = invoice(50000)
    waiting = await runtime.engine.wait(
        (await runtime.engine.start(automation, draft, waiting_event)).id
    )
    again = await runtime.engine.start(automation, draft, waiting_event)
    assert again.id == waiting.id and again.status == "waiting"


async def test_missing_field_fails_the_step_naming_it(runtime: Runtime) -> None:
    draft = invoice_draft()
    event = invoice(5000)
    del event["invoice"]["due_date"]
    run = await runtime.engine.start(automation_for(draft), draft, event)
    run = await runtime.engine.wait(run.id)
    assert run.status == "failed"
    failed = next(s for s in run.steps if s.status == "failed")
    assert "invoice.due_date" in failed.detail
    assert not any(a.idempotency_key.startswith(run.id) for a in runtime.actions.actions)


async def test_shadow_run_records_without_acting(runtime: Runtime) -> None:
    draft = invoice_draft()
    run = await runtime.engine.start(automation_for(draft, status="shadow"), draft, invoice(5000))
    run = await runtime.engine.wait(run.id)
    assert run.status == "completed" and run.shadow
    assert all(s.output.get("shadow") for s in run.steps if s.kind == "action")
    assert not any(a.idempotency_key.startswith(run.id) for a in runtime.actions.actions)


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


async def test_a_condition_on_a_missing_field_fails_naming_it(runtime: Runtime) -> None:
    draft = invoice_draft()
    draft = draft.model_copy(update={"steps": draft.steps[1:]}).sealed()
    event = invoice(5000)
    del event["invoice"]["amount"]
    automation = automation_for(draft)
    run = await runtime.engine.wait((await runtime.engine.start(automation, draft, event)).id)
    assert run.status == "failed"
    failed = next(s for s in run.steps if s.status == "failed")
    assert failed.kind == "condition" and "invoice.amount" in failed.detail


async def test_a_paused_automation_or_an_incomplete_event_is_refused_before_any_run(
    runtime: Runtime,
) -> None:
    draft = invoice_draft()
    with pytest.raises(RunRefused, match="paused"):
        await runtime.engine.start(automation_for(draft, status="paused"), draft, invoice(5000))
    event = invoice(5000)
    del event["invoice"]["amount"]
    with pytest.raises(RunRefused, match=r"invoice\.amount"):
        await runtime.engine.start(automation_for(draft, fields=("invoice.amount",)), draft, event)
    refused = [e for e in runtime.journal.events if e["event"] == "run_refused"]
    assert len(refused) >= 2


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
    draft = WorkflowDraft(
        title="Keep a note",
        goal="Tell #ops about each delivery and note it",
        steps=[
            Step(
                id="s1",
                title="Tell ops",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#ops", "text": "delivery {{delivery.ref}}"},
            ),
            Step(
                id="s2",
                title="Note it",
                kind="action",
                connector="sandbox",
                operation="record",
                params={"note": "delivery {{delivery.ref}}"},
            ),
        ],
    ).sealed()
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
    draft = WorkflowDraft(
        title="Weekly digest",
        goal="Every Monday at 9am post the digest in #ops",
        steps=[
            Step(
                id="s1",
                title="Post the digest",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#ops", "text": "Digest ({{schedule.cron}})"},
            )
        ],
    ).sealed()
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
        assert run.steps[0].input["text"] == "Digest (0 9 * * 1)"
    finally:
        await schedules.remove(automation.id)
