"""Turn a run's waiting steps into inbox items carrying the run's concrete values."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from assistant.runtime.models import InboxItem, Run, RunStep
from assistant.schemas import ActionRequest, ReviewConfig, ReviewRequest

MAX_VALUE = 120
"""Characters of one event value shown in a description; longer values are cut."""


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


def describe(run: Run, step: RunStep, title: str) -> str:
    """Return the markdown a decider reads: what waits, who may decide, the event's values."""
    needs = " and ".join(step.input.get("needs", [])) or "any user"
    verb = "Mark done" if step.kind == "human_task" else "Approve"
    lines = [
        f"**{title}** · run `{run.id}` (v{run.version})",
        f"{verb}: **{step.title}** (needs {needs})",
        *deadline_lines(step),
        "",
    ]
    for path, value in flatten(run.event):
        shown = value if isinstance(value, str) else json.dumps(value)
        if len(shown) > MAX_VALUE:
            shown = shown[: MAX_VALUE - 3] + "..."
        lines.append(f"- `{path}`: {shown}")
    return "\n".join(lines)


def deadline_lines(step: RunStep) -> list[str]:
    """Return the lines saying when ``step`` is due and to whom it was escalated."""
    lines = []
    escalated = step.input.get("escalated_to")
    if escalated is not None:
        lines.append(f"Overdue: {step.detail}" if step.detail else "Overdue")
        if escalated:
            lines.append(f"Now also decidable by: {' or '.join(escalated)}")
    due = step.input.get("due_at")
    if due:
        verb = "Expires" if escalated is not None else "Due"
        lines.append(f"{verb} at {due}")
    return lines


def step_due_at(step: RunStep) -> datetime | None:
    """Return when ``step`` is due (set by the run from the policy's deadlines), if ever."""
    due = step.input.get("due_at")
    return datetime.fromisoformat(due) if isinstance(due, str) else None


def inbox_items(run: Run, *, title: str) -> list[InboxItem]:
    """Return an inbox item for each step of ``run`` waiting for a person.

    Example:
        >>> # inbox_items(await engine.run(run_id), title=automation.title)
    """
    items = []
    for step in run.steps:
        if step.status != "waiting":
            continue
        needs = [role for role in step.input.get("needs", []) if role != "any user"]
        items.append(
            InboxItem(
                id=f"{run.id}:{step.step_id}",
                kind="run_task" if step.kind == "human_task" else "run_approval",
                run_id=run.id,
                step_id=step.step_id,
                approver_role=needs[0] if needs else None,
                request=ReviewRequest(
                    action_request=ActionRequest(
                        action=step.title,
                        args={
                            "run_id": run.id,
                            "step_id": step.step_id,
                            "needs": needs,
                            "escalated_to": step.input.get("escalated_to", []),
                        },
                    ),
                    config=ReviewConfig(allow_edit=False, allow_respond=False, allow_ignore=False),
                    description=describe(run, step, title),
                ),
                created_at=step.started_at or run.started_at,
                due_at=step_due_at(step),
            )
        )
    return items
