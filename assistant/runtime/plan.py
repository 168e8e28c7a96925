"""What a run carries and the pure rules it follows: guards, sign-off roles, who may decide.

Everything here is deterministic and free of I/O, so the Temporal workflow can use it.

Guards: a condition guards the steps after it, through the first approval that follows it;
the next condition ends its scope earlier. In the invoice playbook ("amount > 10000" →
CFO sign-off → "amount > 100000" → CEO sign-off → post a summary) each condition guards
its sign-off and the summary is posted on every run. Steps a false condition guards are
``skipped``.

Sign-offs for the real amount: policy gives the Approval Matrix tier for the event's amount
(``cfo`` and ``ceo`` above 100,000). Each sign-off the run reaches asks for its own role,
raised to the tier role that stands in for it (a controller step asks a cfo at 50,000), plus
every tier role that no earlier signer covered and no later sign-off expected to run will
ask for. So the playbook's CFO step and CEO step each ask their own role at 150,000, and a
version with only the CFO step asks cfo and ceo there (two different people). Tiers raise
the sign-offs a run reaches; they do not add one where the approved conditions skip it.

Separation of duties: the person who submitted the event (its ``submitted_by`` field, at
the top level or inside a top-level object such as ``invoice.submitted_by``) may not
decide its approvals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.policy.conditions import MissingField, lookup
from assistant.runtime.models import Automation, Run, RunStep
from assistant.schemas import WorkflowDraft

SUBMITTER_FIELD = "submitted_by"


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
    missing = []
    for name in automation.trigger.fields:
        try:
            lookup(event, name)
        except MissingField:
            missing.append(name)
    if missing:
        return f"the event lacks {', '.join(missing)}, which {automation.title} needs"
    return None


def resume_point(previous: Run) -> int:
    """Return the index of the step a retry of ``previous`` starts from (its failed step)."""
    return next((i for i, s in enumerate(previous.steps) if s.status == "failed"), 0)


def guards(draft: WorkflowDraft) -> dict[str, list[str]]:
    """Return, per condition step, the ids of the steps it guards (see the module rule).

    Example:
        >>> from assistant.schemas import Step
        >>> kinds = ["action", "condition", "approval", "condition", "approval", "action"]
        >>> steps = [Step(id=f"s{i}", title="t", kind=k, condition="a > 1" if k == "condition"
        ...          else None) for i, k in enumerate(kinds, 1)]
        >>> guards(WorkflowDraft(title="t", goal="g", steps=steps))
        {'s2': ['s3'], 's4': ['s5']}
    """
    found: dict[str, list[str]] = {}
    current: str | None = None
    for step in draft.steps:
        if step.kind == "condition":
            current = step.id
            found[current] = []
            continue
        if current is not None:
            found[current].append(step.id)
            if step.kind == "approval":
                current = None
    return found


def raised(role: str | None, tier: list[str], grants: dict[str, list[str]]) -> str | None:
    """Return the tier role that stands in for ``role`` (stricter or equal), else ``role``."""
    if role is None or role in tier:
        return role
    return next((t for t in tier if satisfies([t], role, grants)), role)


def needed_roles(
    own: str | None, plan: RunPlan, later: list[str | None], signed: list[str]
) -> list[str]:
    """Return the roles a reached sign-off asks for (see the module rule)."""
    needed = [own] if own is not None and own not in signed else []
    needed += [
        role for role in plan.tier if role not in signed and role not in later and role != own
    ]
    return needed


def submitter(event: dict[str, Any]) -> str | None:
    """Return who submitted the event (``submitted_by``, top level or one level down)."""
    value = event.get(SUBMITTER_FIELD)
    if value is None:
        for inner in event.values():
            if isinstance(inner, dict) and inner.get(SUBMITTER_FIELD) is not None:
                value = inner[SUBMITTER_FIELD]
                break
    return str(value) if value is not None else None


def satisfies(held: list[str], needed: str, grants: dict[str, list[str]]) -> bool:
    """Tell whether someone holding ``held`` may decide for ``needed`` (policy grants)."""
    return needed in held or any(
        "*" in grants.get(role, []) or needed in grants.get(role, []) for role in held
    )


def role_for(held: list[str], needed: list[str], grants: dict[str, list[str]]) -> str | None:
    """Return the still-needed role a person covers, preferring a role they hold exactly."""
    exact = [role for role in needed if role in held]
    if exact:
        return exact[0]
    return next((role for role in needed if satisfies(held, role, grants)), None)


def refusal(
    decision: Decision,
    waiting: Waiting | None,
    plan: RunPlan,
    event: dict[str, Any],
    signed: set[str],
) -> str | None:
    """Return why ``decision`` is refused, or None when it may be applied."""
    if waiting is None or waiting.step_id != decision.step_id:
        return f"step {decision.step_id} is not waiting for a decision (already decided?)"
    if decision.roles is None:
        return f"{decision.user} is not a known user"
    needs = " or ".join(waiting.needed) or "any known user"
    if waiting.kind == "approval":
        if plan.separation_of_duties and decision.user == submitter(event):
            return (
                f"{decision.user} submitted this and may not approve it (separation of duties); "
                f"it needs {needs}"
            )
        if decision.user in signed:
            return f"{decision.user} has already signed this run; it needs another {needs}"
    if waiting.needed and role_for(decision.roles, waiting.needed, plan.grants) is None:
        return f"{decision.user} does not hold a role this step needs ({needs})"
    return None
