"""Inbox items for runs waiting on a person: stored once, what they show, whose inbox."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from assistant.db.engine import session_scope
from assistant.db.tables import InboxRecord, utcnow
from assistant.db.users import Directory
from assistant.policy.conditions import lookup
from assistant.policy.rules import Policy
from assistant.runtime.deciders import may_decide
from assistant.runtime.models import Automation, InboxItem, Run
from assistant.schemas import ActionRequest, ReviewConfig, ReviewRequest, Step

DECISION_CONFIG = ReviewConfig(
    allow_accept=True, allow_edit=False, allow_respond=False, allow_ignore=True
)
"""A run's approval is accepted or rejected (Agent Inbox's "ignore"); it is not edited."""


def event_values(automation: Automation, event: dict[str, Any]) -> dict[str, Any]:
    """Return the values of the automation's fields in ``event`` (what a decider weighs)."""
    values: dict[str, Any] = {}
    for field in automation.trigger.fields:
        try:
            values[field] = lookup(event, field)
        except ValueError:
            continue
    return values


def approval_item(run: Run, step: Step, automation: Automation) -> InboxItem:
    """Return the inbox item asking for ``step`` of ``run``, with the run's concrete values."""
    values = event_values(automation, run.event)
    kind = "run_task" if step.kind == "human_task" else "run_approval"
    verb = "Do" if kind == "run_task" else "Approve"
    rows = "\n".join(
        f"| {name} | {json.dumps(value, default=str)} |" for name, value in values.items()
    )
    description = (
        f"**{verb}: {step.title}**\n\n"
        f"{automation.title} v{automation.version}, run `{run.id}`"
        f"{' (shadow run)' if run.shadow else ''}. "
        f"Needs the **{step.approver_role or 'any'}** role.\n\n"
        + (f"| field | value |\n|---|---|\n{rows}\n" if rows else "")
    )
    return InboxItem(
        id=inbox_item_id(run.id, step.id),
        kind=kind,
        run_id=run.id,
        step_id=step.id,
        approver_role=step.approver_role,
        request=ReviewRequest(
            action_request=ActionRequest(
                action=f"{verb.lower()}: {step.title}",
                args={"run": run.id, "step": step.id, "automation": automation.id, **values},
            ),
            config=DECISION_CONFIG,
            description=description,
        ),
        created_at=utcnow(),
    )


def items_for(
    engine: Engine, *, user: str, directory: Directory, policy: Policy
) -> list[InboxItem]:
    """Return the undecided items ``user`` may decide, oldest first."""
    return [
        held.item
        for held in open_items(engine)
        if may_decide(
            user=user,
            role=held.item.approver_role,
            requesters=held.requesters,
            directory=directory,
            policy=policy,
        ).ok
    ]


def inbox_item_id(run_id: str, step_id: str) -> str:
    """Return the id of the inbox item for a run's waiting step (stable across retries)."""
    return f"{run_id}.{step_id}"


def open_item(engine: Engine, *, item: InboxItem, requesters: list[str]) -> None:
    """Open ``item`` once; opening it again (a replayed or retried step) changes nothing.

    ``requesters`` are who submitted the run's event: none of them may decide the item.
    """
    try:
        with session_scope(engine) as session:
            if session.get(InboxRecord, item.id) is not None:
                return
            session.add(
                InboxRecord(
                    id=item.id,
                    kind=item.kind,
                    run_id=item.run_id,
                    thread=item.thread,
                    step_id=item.step_id,
                    approver_role=item.approver_role,
                    requesters=",".join(requesters),
                    body=item.model_dump_json(),
                    created_at=item.created_at,
                    due_at=item.due_at,
                )
            )
    except IntegrityError:
        pass  # opened by another process at the same moment


class OpenItem:
    """An inbox item with what the store knows beside its contract."""

    def __init__(self, row: InboxRecord) -> None:
        self.item = InboxItem.model_validate_json(row.body)
        self.requesters = [name for name in row.requesters.split(",") if name]
        self.decided_by = row.decided_by
        self.decision = row.decision


def get_item(engine: Engine, *, item_id: str) -> OpenItem | None:
    """Return the inbox item ``item_id``, decided or not."""
    with session_scope(engine) as session:
        row = session.get(InboxRecord, item_id)
        return OpenItem(row) if row else None


def open_items(engine: Engine) -> list[OpenItem]:
    """Return every undecided inbox item, oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(InboxRecord)
            .where(col(InboxRecord.decided_at).is_(None))
            .order_by(col(InboxRecord.created_at))
        ).all()
        return [OpenItem(row) for row in rows]


def close_item(engine: Engine, *, item_id: str, user: str, decision: str) -> bool:
    """Mark ``item_id`` decided; return False if it was already decided (nothing changes)."""
    with session_scope(engine) as session:
        row = session.get(InboxRecord, item_id)
        if row is None or row.decided_at is not None:
            return False
        row.decided_by, row.decision, row.decided_at = user, decision, utcnow()
        session.add(row)
        return True
