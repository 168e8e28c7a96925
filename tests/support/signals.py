"""Seed an app database with the designs, runs and decisions the business signals read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from assistant.db.engine import session_scope
from assistant.db.tables import (
    AuditRecord,
    AutomationRecord,
    HelpdeskTicket,
    RunRecord,
    TicketReply,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""When ``seed_signals``'s story starts."""


def add_audit(
    session: Session, start: datetime, events: Sequence[tuple[float, str, str, dict[str, Any]]]
) -> None:
    """Add audit records ``(seconds after start, thread, event, data)`` by ana."""
    for n, (seconds, thread, event, data) in enumerate(events):
        session.add(
            AuditRecord(
                at=start + timedelta(seconds=seconds),
                actor="ana",
                thread=thread,
                event=event,
                data=json.dumps(data),
                prev_hash=str(n),
                hash=str(n + 1),
            )
        )


def add_automation(session: Session, created_at: datetime, draft: dict[str, Any]) -> None:
    """Add automation ``auto_1``: version 2 of ``wf_1``, approved in thread t1."""
    session.add(
        AutomationRecord(
            id="auto_1",
            workflow_id="wf_1",
            version=2,
            content_hash="h",
            title="Invoices",
            owner="ana",
            draft=json.dumps(draft),
            thread="t1",
            created_at=created_at,
        )
    )


def add_runs(
    session: Session,
    start: datetime,
    runs: Sequence[tuple[str, float, float | None, str]],
) -> None:
    """Add runs of ``auto_1`` as ``(id, seconds started, seconds finished or None, status)``."""
    for run_id, began, ended, status in runs:
        session.add(
            RunRecord(
                id=run_id,
                automation_id="auto_1",
                version=2,
                status=status,
                started_at=start + timedelta(seconds=began),
                finished_at=None if ended is None else start + timedelta(seconds=ended),
                body="{}",
            )
        )


def seed_signals(engine: Engine) -> None:
    """From ``T0``: two designs, one live with three runs, two decided ticket replies."""
    with session_scope(engine) as session:
        add_audit(
            session,
            T0,
            [
                (0, "t1", "draft", {"workflow": "wf_1"}),
                (60, "t1", "decision", {"type": "edit"}),
                (61, "t1", "edit", {"version": 2}),
                (300, "t1", "decision", {"type": "accept"}),
                (310, "t1", "approved", {"approvers": ["carla"]}),
                (1000, "t2", "draft", {"workflow": "wf_2"}),
                (1100, "t2", "decision", {"type": "ignore"}),
                (520, "r2", "run_decision", {"accept": True}),
                (620, "r3", "run_decision", {"accept": False}),
            ],
        )
        add_automation(session, T0 + timedelta(seconds=310), {"playbook": "invoice-triage"})
        add_runs(
            session,
            T0,
            [
                ("r1", 400, 410, "completed"),
                ("r2", 500, 530, "failed"),
                ("r3", 600, None, "running"),
            ],
        )
        for n, decision in enumerate(["accepted", "edited"]):
            ticket = HelpdeskTicket(key=f"k{n}", subject="Parcel", created_at=T0)
            session.add(ticket)
            session.flush()
            session.add(
                TicketReply(
                    ticket_id=ticket.id or 0,
                    thread=f"ticket-{n}",
                    status="sent",
                    decision=decision,
                    agent="sam",
                    edit_chars=0 if decision == "accepted" else 12,
                    decided_at=T0 + timedelta(seconds=120),
                )
            )


def seed_yesterday(engine: Engine) -> None:
    """One design drafted, reviewed and approved yesterday, with four runs since."""
    start = datetime.now(UTC) - timedelta(days=1)
    with session_scope(engine) as session:
        add_audit(
            session,
            start,
            [
                (0, "t1", "draft", {"workflow": "wf_1"}),
                (40, "t1", "decision", {"type": "edit"}),
                (41, "t1", "edit", {"version": 2}),
                (200, "t1", "decision", {"type": "accept"}),
                (240, "t1", "approved", {"approvers": ["carla"]}),
            ],
        )
        add_automation(session, start + timedelta(seconds=240), {})
        add_runs(
            session,
            start,
            [
                ("r0", 300, 312, "completed"),
                ("r1", 400, 420, "completed"),
                ("r2", 500, 545, "failed"),
                ("r3", 600, 609, "completed"),
            ],
        )
