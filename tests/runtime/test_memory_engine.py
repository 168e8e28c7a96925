"""The in-memory run engine runs the invoice automation the way DESIGN.md says runs behave."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog
from assistant.db.users import UserDirectory
from assistant.runtime import inbox, store
from assistant.runtime.activation import activate
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.models import Automation
from assistant.runtime.steps import MissingEventFields
from assistant.schemas import Step, WorkflowDraft
from tests.runtime.conftest import invoice, invoice_draft


@pytest.fixture
def live(db: Engine) -> tuple[Automation, WorkflowDraft]:
    draft = invoice_draft()
    return activate(db, draft=draft, approvals=["carol"], owner="ana").automation, draft


@pytest.fixture
def engine(db: Engine, people: UserDirectory) -> MemoryEngine:
    return MemoryEngine(db=db, directory=people)


def statuses(run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {step.step_id: step.status for step in run.steps}


async def test_small_invoice_needs_no_sign_off_and_posts_the_real_values(
    engine: MemoryEngine, live: tuple[Automation, WorkflowDraft], db: Engine
) -> None:
    run = await engine.start(*live, invoice(5000))
    assert run.status == "completed"
    assert statuses(run) == {
        "s1": "ok",
        "s2": "ok",
        "s3": "skipped",
        "s4": "ok",
        "s5": "skipped",
        "s6": "ok",
    }
    assert run.steps[0].input["payload"] == {"vendor": "Acme Freight", "amount": 5000}
    assert run.steps[5].input["text"] == "Invoice INV-204 from Acme Freight for 5000 USD is logged."
    assert [a["step"] for a in engine.actions] == ["s1", "s6"]
    assert all(a["performed"] for a in engine.actions)
    assert store.get_run(db, run_id=run.id) == run
    events = [r.event for r in AuditLog(db).records() if r.thread == run.id]
    assert events == ["run_started", "run_action", "run_action", "run_completed"]


async def test_a_large_invoice_waits_for_the_cfo_and_refuses_others_at_once(
    engine: MemoryEngine, live: tuple[Automation, WorkflowDraft], db: Engine
) -> None:
    run = await engine.start(*live, invoice(50_000, submitted_by="carol"))
    assert run.status == "waiting" and statuses(run)["s3"] == "waiting"
    assert [a["step"] for a in engine.actions] == ["s1"]
    (item,) = [held.item for held in inbox.open_items(db)]
    assert item.kind == "run_approval" and item.approver_role == "cfo"
    assert "50000" in item.request.description
    wrong = await engine.decide(run.id, "s3", user="dan", accept=True)
    assert not wrong.ok and "does not hold the cfo role" in wrong.message
    own = await engine.decide(run.id, "s3", user="carol", accept=True)
    assert not own.ok and "separation of duties" in own.message and "erin" in own.message
    assert (await engine.run(run.id)).status == "waiting"
    ceo = await engine.decide(run.id, "s3", user="erin", accept=True)
    assert ceo.ok
    done = await engine.run(run.id)
    assert done.status == "completed" and statuses(done)["s5"] == "skipped"
    again = await engine.decide(run.id, "s3", user="erin", accept=True)
    assert not again.ok and "not waiting" in again.message
    assert inbox.open_items(db) == []
    assert "decision_refused" in [r.event for r in AuditLog(db).records(thread=run.id)]


async def test_a_very_large_invoice_needs_the_cfo_then_the_ceo(
    engine: MemoryEngine, live: tuple[Automation, WorkflowDraft]
) -> None:
    run = await engine.start(*live, invoice(150_000))
    assert (await engine.decide(run.id, "s3", user="carol", accept=True)).ok
    waiting = await engine.run(run.id)
    assert waiting.status == "waiting" and statuses(waiting)["s5"] == "waiting"
    assert (await engine.decide(run.id, "s5", user="erin", accept=True)).ok
    assert (await engine.run(run.id)).status == "completed"


async def test_a_rejection_stops_the_run(
    engine: MemoryEngine, live: tuple[Automation, WorkflowDraft]
) -> None:
    run = await engine.start(*live, invoice(50_000))
    outcome = await engine.decide(run.id, "s3", user="carol", accept=False, reason="no PO")
    assert outcome.ok
    stopped = await engine.run(run.id)
    assert stopped.status == "rejected" and statuses(stopped)["s6"] == "pending"
    assert [a["step"] for a in engine.actions] == ["s1"]


async def test_the_same_event_id_starts_one_run(
    engine: MemoryEngine, live: tuple[Automation, WorkflowDraft], db: Engine
) -> None:
    first = await engine.start(*live, invoice(5000, event_id="evt-1"))
    second = await engine.start(*live, invoice(5000, event_id="evt-1"))
    assert second.id == first.id
    assert len(store.list_runs(db)) == 1 and len(engine.actions) == 2


async def test_an_event_missing_a_field_starts_nothing(
    engine: MemoryEngine, live: tuple[Automation, WorkflowDraft], db: Engine
) -> None:
    event = invoice(5000)
    del event["invoice"]["amount"]
    with pytest.raises(MissingEventFields) as caught:
        await engine.start(*live, event)
    assert caught.value.fields == ["invoice.amount"]
    assert store.list_runs(db) == [] and engine.actions == []


async def test_a_shadow_run_records_its_actions_without_performing_them(
    engine: MemoryEngine, live: tuple[Automation, WorkflowDraft]
) -> None:
    automation, draft = live
    run = await engine.start(
        automation.model_copy(update={"status": "shadow"}), draft, invoice(5000)
    )
    assert run.shadow and run.status == "completed"
    assert [a["performed"] for a in engine.actions] == [False, False]
    assert "not performed" in run.steps[0].detail


async def test_a_value_missing_when_its_step_runs_fails_that_step_naming_it(
    engine: MemoryEngine, db: Engine
) -> None:
    draft = (
        invoice_draft()
        .model_copy(
            update={
                "steps": [
                    Step(id="s1", title="Assess", kind="human_task", approver_role="cfo"),
                    Step(
                        id="s2",
                        title="Post",
                        kind="action",
                        connector="slack",
                        operation="post_message",
                        params={"text": "Remedy: {{claim.remedy}}"},
                    ),
                ]
            }
        )
        .sealed()
    )
    automation = activate(db, draft=draft, approvals=["carol"], owner="ana").automation
    run = await engine.start(automation, draft, {})
    assert (await engine.decide(run.id, "s1", user="carol", accept=True)).ok
    failed = await engine.run(run.id)
    assert failed.status == "failed" and statuses(failed)["s2"] == "failed"
    assert "claim.remedy" in failed.steps[1].detail
    assert engine.actions == []


async def test_sign_offs_follow_the_approval_matrix_on_the_real_amount(
    db: Engine, engine: MemoryEngine
) -> None:
    # A version whose only sign-off asks a controller, and no threshold condition.
    draft = invoice_draft()
    steps = [s for s in draft.steps if s.kind != "condition" and s.id != "s5"]
    steps[1] = steps[1].model_copy(update={"approver_role": "controller"})
    lean = draft.model_copy(update={"steps": steps}).sealed()
    automation = activate(db, draft=lean, approvals=["carol"], owner="ana").automation

    run = await engine.start(automation, lean, invoice(150_000))
    sign_off = run.steps[1].step_id
    assert run.steps[1].input["needs"] == ["cfo", "ceo"]
    (item,) = [held.item for held in inbox.open_items(db)]
    assert item.approver_role == "cfo"
    controller = await engine.decide(run.id, sign_off, user="dan", accept=True)
    assert not controller.ok and "cfo" in controller.message and "carol" in controller.message
    assert (await engine.decide(run.id, sign_off, user="carol", accept=True)).ok
    half = await engine.run(run.id)
    assert half.status == "waiting" and half.steps[1].input["needs"] == ["ceo"]
    (item,) = [held.item for held in inbox.open_items(db)]
    assert item.approver_role == "ceo"
    assert not (await engine.decide(run.id, sign_off, user="carol", accept=True)).ok
    assert (await engine.decide(run.id, sign_off, user="erin", accept=True)).ok
    assert (await engine.run(run.id)).status == "completed"
    assert inbox.open_items(db) == []
