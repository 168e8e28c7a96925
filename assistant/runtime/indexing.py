"""Keep the runs index and the inbox current from the snapshots a Temporal run reports.

The run workflow reports its state through the ``record_run`` activity at each turn: before
it waits for a person, beside the first action after it starts or after a decision lets it
go on (so that action does not wait for the write), and when it ends. The workflow is the only writer of its own snapshots and reports them one after the
other, so the index stays right with any number of workers and server replicas sharing the
app database: no process writes what it read from the engine a moment earlier over what
the run reported since. A waiting step opens (or updates) its inbox item; a step that no
longer waits closes it with who decided.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from assistant.runtime import inbox, store
from assistant.runtime.deciders import requesters_of
from assistant.runtime.models import Run, RunStep
from assistant.runtime.waiting import inbox_items


def decided_by(step: RunStep | None) -> tuple[str, str]:
    """Return who closed a step that no longer waits, and how (accepted, rejected, ...)."""
    if step is None:
        return "flowdraft", "cancelled"
    if step.status == "rejected":
        return str(step.output.get("rejected_by") or "flowdraft"), "rejected"
    signed = step.output.get("signed") or []
    if step.status == "ok" and signed:
        return str(signed[-1][0]), "accepted"
    return "flowdraft", step.status


def record_run(db: Engine, *, run: Run, title: str) -> None:
    """Write ``run``'s snapshot, open an inbox item per waiting step, close the others."""
    store.save_run(db, run=run)
    waiting = {item.step_id: item for item in inbox_items(run, title=title)}
    requesters = requesters_of(run.event)
    for item in waiting.values():
        inbox.refresh_item(db, item=item, requesters=requesters)
    steps = {step.step_id: step for step in run.steps}
    for held in inbox.open_items(db, run_id=run.id):
        if held.item.step_id in waiting:
            continue
        user, decision = decided_by(steps.get(held.item.step_id or ""))
        inbox.close_item(db, item_id=held.item.id, user=user, decision=decision)
