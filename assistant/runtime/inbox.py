"""Inbox items for runs waiting on a person: what they show, and whose inbox they are in."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine

from assistant.db.tables import utcnow
from assistant.db.users import Directory
from assistant.policy.conditions import lookup
from assistant.policy.rules import Policy
from assistant.runtime import store
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
        id=store.inbox_item_id(run.id, step.id),
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
        for held in store.open_items(engine)
        if may_decide(
            user=user,
            role=held.item.approver_role,
            requesters=held.requesters,
            directory=directory,
            policy=policy,
        ).ok
    ]
