"""Inbox items for runs waiting on a person: stored once, what they show, whose inbox."""

from __future__ import annotations

import json
from datetime import datetime
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
MAX_VALUE = 120
"""Characters of one event value shown in a description; longer values are cut."""


def event_values(automation: Automation, event: dict[str, Any]) -> dict[str, Any]:
    """Return the values of the automation's fields in ``event`` (what a decider weighs)."""
    values: dict[str, Any] = {}
    for field in automation.trigger.fields:
        try:
            values[field] = lookup(event, field)
        except ValueError:
            continue
    return values


def flatten(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Return ``(dotted.path, value)`` pairs of nested event values."""
    pairs: list[tuple[str, Any]] = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            pairs += flatten(value, f"{path}.")
        else:
            pairs.append((path, value))
    return pairs


def describe(
    run: Run,
    *,
    heading: str,
    verb: str,
    title: str,
    needs: list[str],
    notes: list[str] | None = None,
) -> str:
    """Return the markdown a decider reads: what waits, who may decide, the event's values.

    ``notes`` are lines shown under the request, such as when it is due.
    """
    lines = [
        f"**{heading}** · run `{run.id}` (v{run.version}){' (shadow run)' if run.shadow else ''}",
        f"{verb}: **{title}** (needs {' and '.join(needs) or 'any user'})",
        *(notes or []),
        "",
    ]
    for path, value in flatten(run.event):
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        if len(shown) > MAX_VALUE:
            shown = shown[: MAX_VALUE - 3] + "..."
        lines.append(f"- `{path}`: {shown}")
    return "\n".join(lines)


def run_item(
    run: Run,
    *,
    step_id: str,
    title: str,
    kind: str,
    needs: list[str],
    heading: str,
    values: dict[str, Any] | None = None,
    created_at: datetime | None = None,
    due_at: datetime | None = None,
    notes: list[str] | None = None,
) -> InboxItem:
    """Return the inbox item asking for step ``step_id`` of ``run``, with its concrete values.

    ``needs`` are the roles still to decide (the first is the item's ``approver_role``);
    ``values`` are added to the request's args beside the run and step.
    """
    item_kind = "run_task" if kind == "human_task" else "run_approval"
    verb = "Mark done" if item_kind == "run_task" else "Approve"
    return InboxItem(
        id=inbox_item_id(run.id, step_id),
        kind=item_kind,
        run_id=run.id,
        step_id=step_id,
        approver_role=needs[0] if needs else None,
        request=ReviewRequest(
            action_request=ActionRequest(
                action=f"{verb.lower()}: {title}",
                args={"run": run.id, "step": step_id, "needs": needs, **(values or {})},
            ),
            config=DECISION_CONFIG,
            description=describe(
                run, heading=heading, verb=verb, title=title, needs=needs, notes=notes
            ),
        ),
        created_at=created_at or utcnow(),
        due_at=due_at,
    )


def approval_item(run: Run, step: Step, automation: Automation) -> InboxItem:
    """Return the inbox item asking for ``step`` of ``run``, with the run's concrete values."""
    return run_item(
        run,
        step_id=step.id,
        title=step.title,
        kind=step.kind,
        needs=[step.approver_role] if step.approver_role else [],
        heading=f"{automation.title} v{automation.version}",
        values={"automation": automation.id, **event_values(automation, run.event)},
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


def open_items(engine: Engine, *, run_id: str | None = None) -> list[OpenItem]:
    """Return every undecided inbox item (of one run, given ``run_id``), oldest first."""
    with session_scope(engine) as session:
        query = select(InboxRecord).where(col(InboxRecord.decided_at).is_(None))
        if run_id is not None:
            query = query.where(InboxRecord.run_id == run_id)
        rows = session.exec(query.order_by(col(InboxRecord.created_at))).all()
        return [OpenItem(row) for row in rows]


def refresh_item(engine: Engine, *, item: InboxItem, requesters: list[str]) -> None:
    """Open ``item``, or bring an undecided one up to date (a sign-off's remaining roles)."""
    with session_scope(engine) as session:
        row = session.get(InboxRecord, item.id)
        known = row is not None
        if row is not None and row.decided_at is None:
            row.approver_role, row.body = item.approver_role, item.model_dump_json()
            session.add(row)
    if not known:
        open_item(engine, item=item, requesters=requesters)


def close_item(engine: Engine, *, item_id: str, user: str, decision: str) -> bool:
    """Mark ``item_id`` decided; return False if it was already decided (nothing changes)."""
    with session_scope(engine) as session:
        row = session.get(InboxRecord, item_id)
        if row is None or row.decided_at is not None:
            return False
        row.decided_by, row.decision, row.decided_at = user, decision, utcnow()
        session.add(row)
        return True
