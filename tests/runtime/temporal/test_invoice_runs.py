"""The invoice automation end to end on a real Temporal dev server."""

from __future__ import annotations

import pytest

from assistant.runtime.plan import RunRefused
from assistant.runtime.waiting import inbox_items
from tests.runtime.temporal.conftest import (
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


async def test_a_run_finishes_on_its_version_after_a_newer_one_is_live(runtime: Runtime) -> None:
    v1 = invoice_draft()
    run = await runtime.engine.start(automation_for(v1), v1, invoice(50000))
    run = await runtime.engine.wait(run.id)
    assert run.status == "waiting"

    steps = [
        s.model_copy(update={"params": {**s.params, "channel": "#ap-team"}})
        if s.connector == "slack"
        else s
        for s in v1.steps
    ]
    v2 = v1.model_copy(update={"version": 2, "steps": steps}).sealed()
    newer = await runtime.engine.start(automation_for(v2), v2, invoice(5000))
    assert (await runtime.engine.wait(newer.id)).status == "completed"

    approval = next(s for s in run.steps if s.status == "waiting")
    assert (await runtime.engine.decide(run.id, approval.step_id, user="carla", accept=True)).ok
    run = await runtime.engine.wait(run.id)
    assert run.status == "completed"
    assert (run.version, run.content_hash) == (1, v1.content_hash)
    summary = next(s for s in run.steps if s.input.get("channel"))
    assert summary.input["channel"] == "#finance"
