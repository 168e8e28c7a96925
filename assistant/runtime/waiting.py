"""Turn a run's waiting steps, as the Temporal workflow reports them, into inbox items."""

from __future__ import annotations

from assistant.runtime.inbox import run_item
from assistant.runtime.models import InboxItem, Run


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
        )
        for step in run.steps
        if step.status == "waiting"
    ]
