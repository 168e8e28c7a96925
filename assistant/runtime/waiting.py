"""Turn a run's waiting steps, as the Temporal workflow reports them, into inbox items."""

from __future__ import annotations

from datetime import datetime

from assistant.runtime.inbox import run_item
from assistant.runtime.models import InboxItem, Run, RunStep


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

    A waiting step's ``input["needs"]`` holds the roles still to sign it (raised to the
    Approval Matrix tier for the run's real amount); the first is the item's role.

    Example:
        >>> # inbox_items(await engine.run(run_id), title=automation.title)
    """
    return [
        run_item(
            run,
            step_id=step.step_id,
            title=step.title,
            kind=step.kind,
            needs=[role for role in step.input.get("needs", []) if role != "any user"],
            heading=title,
            created_at=step.started_at or run.started_at,
            due_at=step_due_at(step),
            notes=deadline_lines(step),
            values={"escalated_to": step.input.get("escalated_to", [])},
        )
        for step in run.steps
        if step.status == "waiting"
    ]
