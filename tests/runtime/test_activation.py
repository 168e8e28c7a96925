"""Activation: the trigger an approved version gets, retiring old versions, status changes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog
from assistant.db.users import UserDirectory
from assistant.runtime import store
from assistant.runtime.activation import (
    ActivationError,
    ChangeRefused,
    activate,
    change_status,
    rotate_hook_token,
)
from assistant.runtime.steps import event_fields
from assistant.schemas import Step, Trigger
from tests.runtime.conftest import invoice_draft


def test_fields_are_what_the_steps_read_from_the_event() -> None:
    assert event_fields(invoice_draft()) == ["invoice.vendor", "invoice.amount", "invoice.number"]


def test_fields_made_by_earlier_steps_or_people_are_not_asked_of_the_event() -> None:
    draft = invoice_draft().model_copy(
        update={
            "steps": [
                Step(
                    id="s1",
                    title="Open a ticket",
                    kind="action",
                    connector="tickets",
                    operation="create_ticket",
                    params={"subject": "Claim {{claim.type}}"},
                ),
                Step(
                    id="s2",
                    title="Tell the customer",
                    kind="action",
                    connector="email",
                    operation="send_email",
                    params={"to": "{{customer.email}}", "body": "Ref {{ticket.id}} {{s1.id}}"},
                ),
                Step(id="s3", title="Assess", kind="human_task", approver_role="support_lead"),
                Step(
                    id="s4",
                    title="Post",
                    kind="action",
                    connector="slack",
                    operation="post_message",
                    params={"text": "{{claim.remedy}}"},
                ),
            ]
        }
    )
    assert event_fields(draft) == ["claim.type", "customer.email"]


def test_an_event_trigger_gets_a_hook_and_a_token_only_its_hash_is_kept(db: Engine) -> None:
    made = activate(db, draft=invoice_draft(), approvals=["carol"], owner="ana", thread="t1")
    automation = made.automation
    assert automation.status == "active"
    assert automation.trigger.hook == f"/hooks/{automation.id}"
    assert automation.trigger.fields == ["invoice.vendor", "invoice.amount", "invoice.number"]
    assert made.hook_url("http://127.0.0.1:8000/") == f"http://127.0.0.1:8000/hooks/{automation.id}"
    assert made.hook_token and made.hook_token.startswith("fh_")
    assert store.check_hook_token(db, automation_id=automation.id, token=made.hook_token)
    assert not store.check_hook_token(db, automation_id=automation.id, token="fh_guess")
    stored = store.get_automation(db, automation_id=automation.id)
    assert stored == automation
    assert made.hook_token not in json.dumps([r.data for r in AuditLog(db).records()])
    activated = [r for r in AuditLog(db).records() if r.event == "activated"]
    assert activated and activated[0].actor == "ana" and activated[0].thread == "t1"


def test_a_schedule_trigger_gets_cron_and_its_time_zone(db: Engine) -> None:
    draft = invoice_draft().model_copy(
        update={"trigger": Trigger(kind="schedule", detail="every Monday at 9am")}
    )
    made = activate(db, draft=draft, approvals=["carol"], owner="ana", timezone="Europe/Paris")
    assert made.automation.trigger.cron == "0 9 * * 1"
    assert made.automation.trigger.hook is None and made.hook_token is None
    assert store.automation_timezone(db, automation_id=made.automation.id) == "Europe/Paris"


def test_an_unreadable_schedule_is_not_activated(db: Engine) -> None:
    draft = invoice_draft().model_copy(
        update={"trigger": Trigger(kind="schedule", detail="when the moon is full")}
    )
    with pytest.raises(ActivationError, match="every Monday at 9am"):
        activate(db, draft=draft, approvals=["carol"], owner="ana")
    assert store.list_automations(db) == []


def test_a_new_version_retires_the_old_and_an_old_one_cannot_come_back(db: Engine) -> None:
    first = activate(db, draft=invoice_draft(1), approvals=["carol"], owner="ana").automation
    second = activate(db, draft=invoice_draft(2), approvals=["carol"], owner="ana")
    assert second.retired == [first.id]
    statuses = {a.version: a.status for a in store.list_automations(db)}
    assert statuses == {1: "retired", 2: "active"}
    with pytest.raises(ActivationError, match="v2 is already live"):
        activate(db, draft=invoice_draft(1), approvals=["carol"], owner="ana")
    assert "automation_retired" in [r.event for r in AuditLog(db).records()]


def test_owner_approvers_and_admins_change_status_others_are_told_who_may(
    db: Engine, people: UserDirectory
) -> None:
    automation = activate(db, draft=invoice_draft(), approvals=["carol"], owner="ana").automation
    paused = change_status(
        db, automation_id=automation.id, change="pause", user="ana", directory=people
    )
    assert paused.status == "paused"
    with pytest.raises(ChangeRefused) as refused:
        change_status(
            db, automation_id=automation.id, change="resume", user="dan", directory=people
        )
    assert "dan may not resume" in str(refused.value)
    for name in ("ana", "carol", "root"):
        assert name in str(refused.value)
    assert store.get_automation(db, automation_id=automation.id).status == "paused"  # type: ignore[union-attr]
    assert (
        change_status(
            db, automation_id=automation.id, change="shadow", user="carol", directory=people
        ).status
        == "shadow"
    )
    assert (
        change_status(
            db, automation_id=automation.id, change="live", user="root", directory=people
        ).status
        == "active"
    )
    events = [r.event for r in AuditLog(db).records()]
    for event in (
        "automation_paused",
        "automation_change_refused",
        "automation_shadowed",
        "automation_live",
    ):
        assert event in events


def test_a_retired_automation_cannot_be_resumed(db: Engine, people: UserDirectory) -> None:
    first = activate(db, draft=invoice_draft(1), approvals=["carol"], owner="ana").automation
    activate(db, draft=invoice_draft(2), approvals=["carol"], owner="ana")
    with pytest.raises(store.StoreError, match="retired"):
        change_status(db, automation_id=first.id, change="resume", user="ana", directory=people)


def test_a_rotated_hook_token_replaces_the_old_one(db: Engine, people: UserDirectory) -> None:
    made = activate(db, draft=invoice_draft(), approvals=["carol"], owner="ana")
    automation_id = made.automation.id
    with pytest.raises(ChangeRefused):
        rotate_hook_token(db, automation_id=automation_id, user="dan", directory=people)
    token = rotate_hook_token(db, automation_id=automation_id, user="ana", directory=people)
    assert store.check_hook_token(db, automation_id=automation_id, token=token)
    assert not store.check_hook_token(db, automation_id=automation_id, token=made.hook_token or "")
    assert "hook_token_rotated" in [r.event for r in AuditLog(db).records()]
