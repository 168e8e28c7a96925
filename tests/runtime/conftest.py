"""Fixtures of the runtime tests: the drafts automations are made of, a database, its people."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from assistant.db.engine import make_engine
from assistant.db.users import UserDirectory, add_user
from assistant.schemas import Step, Trigger, WorkflowDraft

PEOPLE = {
    "ana": ["finance"],
    "carol": ["cfo"],
    "erin": ["ceo"],
    "dan": ["controller"],
    "root": ["admin"],
}


def invoice_draft(version: int = 1, workflow_id: str = "wf_invoices") -> WorkflowDraft:
    """Return the vendor invoice triage workflow as the shipped playbook drafts it."""
    return WorkflowDraft(
        id=workflow_id,
        version=version,
        title="Vendor invoice triage",
        goal="Route vendor invoices above $10k to the CFO for sign-off",
        playbook="invoice-triage",
        trigger=Trigger(kind="event", detail="A vendor invoice arrives in the AP inbox"),
        steps=[
            Step(
                id="s1",
                title="Log the invoice in the ERP",
                kind="action",
                connector="webhook",
                operation="post_json",
                params={
                    "url": "https://erp.internal.northwind.example/api/invoices",
                    "payload": {"vendor": "{{invoice.vendor}}", "amount": "{{invoice.amount}}"},
                },
            ),
            Step(
                id="s2",
                title="Check the amount against the sign-off threshold",
                kind="condition",
                condition="invoice.amount > 10000",
            ),
            Step(id="s3", title="CFO sign-off", kind="approval", approver_role="cfo"),
            Step(
                id="s4",
                title="Check whether the invoice exceeds 100,000",
                kind="condition",
                condition="invoice.amount > 100000",
            ),
            Step(id="s5", title="CEO co-signature", kind="approval", approver_role="ceo"),
            Step(
                id="s6",
                title="Post a summary in the finance channel",
                kind="action",
                connector="slack",
                operation="post_message",
                params={
                    "channel": "#finance",
                    "text": "Invoice {{invoice.number}} from {{invoice.vendor}} "
                    "for {{invoice.amount}} USD is logged.",
                },
            ),
        ],
    ).sealed()


def digest_draft(version: int = 1, workflow_id: str = "wf_digest") -> WorkflowDraft:
    """Return a weekly digest workflow whose one step says its version and which schedule fired."""
    return WorkflowDraft(
        id=workflow_id,
        version=version,
        title="Weekly digest",
        goal="Every Monday at 9am post the digest in #ops",
        trigger=Trigger(kind="schedule", detail="every Monday at 9am"),
        steps=[
            Step(
                id="s1",
                title="Post the digest",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#ops", "text": f"Digest v{version} ({{{{schedule.cron}}}})"},
            )
        ],
    ).sealed()


def delivery_draft() -> WorkflowDraft:
    """Return a workflow of two actions, a Slack post then a sandbox note, per delivery."""
    return WorkflowDraft(
        id="wf_deliveries",
        title="Note deliveries",
        goal="Tell #ops about each delivery and note it",
        trigger=Trigger(kind="webhook", detail="A delivery arrives"),
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


def invoice(amount: int, *, event_id: str | None = None, submitted_by: str = "ana") -> dict:
    """Return an invoice event."""
    event: dict = {
        "invoice": {
            "vendor": "Acme Freight",
            "number": "INV-204",
            "amount": amount,
            "submitted_by": submitted_by,
        }
    }
    if event_id:
        event["id"] = event_id
    return event


@pytest.fixture
def db(tmp_path: Path) -> Engine:
    """Return an empty SQLite app database."""
    return make_engine(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.fixture
def people(db: Engine) -> UserDirectory:
    """Return a directory of the finance team (ana submits, carol is CFO, erin CEO)."""
    for name, roles in PEOPLE.items():
        add_user(db, name=name, roles=roles)
    return UserDirectory(db)
