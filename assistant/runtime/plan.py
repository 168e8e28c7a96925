"""What a run carries, and the pure rules of its steps: guards, admission, retries.

Everything here is deterministic and free of I/O, so the Temporal workflow can use it.

Guards (which steps a false condition skips) are the rule of ``steps.guarded_steps``, the
same for every engine: in the invoice playbook ("amount > 10000" → CFO sign-off → "amount >
100000" → CEO sign-off → post a summary) each condition guards its sign-off and the summary
is posted on every run. Steps a false condition guards are
``skipped``. Who may decide a sign-off is in ``signoffs``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.policy.rules import Deadline
from assistant.runtime.models import Automation, Run, RunStep
from assistant.runtime.steps import guarded_steps, missing_fields
from assistant.schemas import WorkflowDraft


class RunOptions(BaseModel):
    """Per-run knobs: how long an action may take and how often it is retried."""

    action_timeout: float = 120.0
    """Seconds one attempt of an action may take before it is retried."""
    heartbeat_timeout: float = 10.0
    """Seconds without a heartbeat after which an attempt counts as lost (a dead worker)."""
    attempts: int = 5


class RunInput(BaseModel):
    """Everything a run starts from: the automation, its approved version, the event."""

    automation: Automation
    draft: WorkflowDraft
    event: dict[str, Any] = Field(default_factory=dict)
    shadow: bool = False
    options: RunOptions = Field(default_factory=RunOptions)
    received_at: datetime | None = None
    """When the event arrived; the run's ``started_at``."""
    previous: Run | None = None
    """A failed run this one retries: its steps before the failed one are kept, not redone."""
    key_run_id: str | None = None
    """The run id in idempotency keys: a retry keeps its original run's keys."""


class RunPlan(BaseModel):
    """Policy's answer for this run's real values (the Approval Matrix for its amount)."""

    amount: float | None = None
    tier: list[str] = Field(default_factory=list)
    """The Approval Matrix roles for the amount (distinct people)."""
    roles: dict[str, str | None] = Field(default_factory=dict)
    """Per approval or task step, its role raised to the tier; None = any known user."""
    grants: dict[str, list[str]] = Field(default_factory=dict)
    """Which roles stand in for which (a ceo may approve for a cfo)."""
    separation_of_duties: bool = True
    deadline: Deadline | None = None
    """When this run's sign-offs and tasks are reminded, escalated and expire; None: never."""


class Decision(BaseModel):
    """A person's answer to a waiting step; ``roles`` come from the directory (None: unknown)."""

    step_id: str
    user: str
    roles: list[str] | None
    accept: bool
    reason: str | None = None


class Waiting(BaseModel):
    """The step a run waits on and the roles it still needs."""

    step_id: str
    kind: Literal["approval", "human_task"]
    needed: list[str]
    escalated_to: dict[str, list[str]] = Field(default_factory=dict)
    """Per needed role, the next tier up it was escalated to once overdue (its grants let it)."""


class ActionInput(BaseModel):
    """One action to perform (or, in a shadow run, to record)."""

    run_id: str
    content_hash: str
    step_id: str
    connector: str
    operation: str
    params: dict[str, Any]
    event: dict[str, Any]
    outputs: dict[str, Any]
    shadow: bool = False


class ActionOutcome(BaseModel):
    """What an action did: the rendered params, the connector's answer, the attempt count."""

    status: Literal["ok", "failed"]
    input: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] = Field(default_factory=dict)
    detail: str = ""
    attempts: int = 1


class AuditEntry(BaseModel):
    """One audit event about a run."""

    name: str
    run_id: str
    actor: str
    content_hash: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class RunSnapshot(BaseModel):
    """A run's state as the workflow reports it to the runs index and the inbox."""

    run: Run
    title: str
    """The automation's title, shown in inbox items."""


def initial_run(run_id: str, run: RunInput, now: datetime) -> Run:
    """Return the run as it stands before its first step (a retry keeps the steps it keeps)."""
    steps = [RunStep(step_id=s.id, title=s.title, kind=s.kind) for s in run.draft.steps]
    if run.previous is not None:
        kept = resume_point(run.previous)
        steps[:kept] = run.previous.steps[:kept]
    return Run(
        id=run_id,
        automation_id=run.automation.id,
        version=run.draft.version,
        content_hash=run.draft.content_hash,
        shadow=run.shadow,
        event=run.event,
        started_at=run.received_at or now,
        steps=steps,
    )


class RunRefused(ValueError):
    """Raised when an automation may not start a run for an event (paused, missing fields)."""


def admission_problem(automation: Automation, event: dict[str, Any]) -> str | None:
    """Return why ``automation`` refuses ``event`` before any run starts, or None."""
    if automation.status in ("paused", "retired"):
        return f"{automation.title} is {automation.status}: it takes no new events" + (
            " until it is resumed" if automation.status == "paused" else ""
        )
    missing = missing_fields(automation.trigger.fields, event)
    if missing:
        return f"the event lacks {', '.join(missing)}, which {automation.title} needs"
    return None


def resume_point(previous: Run) -> int:
    """Return the index of the step a retry of ``previous`` starts from (its failed step)."""
    return next((i for i, s in enumerate(previous.steps) if s.status == "failed"), 0)


def guards(draft: WorkflowDraft) -> dict[str, list[str]]:
    """Return, per condition step, the ids of the steps it guards (``steps.guarded_steps``).

    Example:
        >>> from assistant.schemas import Step
        >>> kinds = ["action", "condition", "approval", "condition", "approval", "action"]
        >>> steps = [Step(id=f"s{i}", title="t", kind=k, condition="a > 1" if k == "condition"
        ...          else None) for i, k in enumerate(kinds, 1)]
        >>> guards(WorkflowDraft(title="t", goal="g", steps=steps))
        {'s2': ['s3'], 's4': ['s5']}
    """
    return {
        step.id: guarded_steps(draft.steps, index)
        for index, step in enumerate(draft.steps)
        if step.kind == "condition"
    }
