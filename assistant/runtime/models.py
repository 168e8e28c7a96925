"""Contracts of the runtime: automations, runs, run steps and inbox items (DESIGN.md).

These shapes are relied on by tools outside this repository: field names and literals are
the contract. ``RunEngine`` is what the rest of the product calls to start and steer runs;
the Temporal engine and the in-memory engine both implement it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import Field

from assistant.schemas import Contract, ReviewRequest, TriggerKind, WorkflowDraft

AutomationStatus = Literal["active", "paused", "shadow", "retired"]
RunStatus = Literal["running", "waiting", "completed", "failed", "rejected", "cancelled"]
RunStepStatus = Literal[
    "pending", "running", "ok", "skipped", "failed", "blocked", "waiting", "rejected"
]
InboxKind = Literal["workflow_review", "run_approval", "run_task"]
FINISHED: tuple[RunStatus, ...] = ("completed", "failed", "rejected", "cancelled")
"""Run statuses after which nothing more happens."""


class AutomationTrigger(Contract):
    """What starts an automation's runs."""

    kind: TriggerKind = "manual"
    detail: str = ""
    cron: str | None = None
    """Schedule triggers: the cron expression derived from the drafted schedule."""
    hook: str | None = None
    """Webhook and event triggers: the path events are posted to (``/hooks/{id}``)."""
    fields: list[str] = Field(default_factory=list)
    """The event fields the steps use (``invoice.amount``); an event missing one is refused."""


class Automation(Contract):
    """An approved workflow version, live (or paused, shadowed, retired)."""

    id: str
    workflow_id: str
    version: int
    content_hash: str
    title: str
    status: AutomationStatus = "active"
    trigger: AutomationTrigger = Field(default_factory=AutomationTrigger)
    owner: str
    approved_by: list[str] = Field(default_factory=list)
    created_at: datetime


class RunStep(Contract):
    """What happened to one step in one run."""

    step_id: str
    title: str
    kind: str
    status: RunStepStatus = "pending"
    input: dict[str, Any] = Field(default_factory=dict)
    """The step's params rendered with the event's values."""
    output: dict[str, Any] = Field(default_factory=dict)
    detail: str = ""
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Run(Contract):
    """One execution of an automation for one event."""

    id: str
    automation_id: str
    version: int
    content_hash: str
    status: RunStatus = "running"
    shadow: bool = False
    event: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime
    finished_at: datetime | None = None
    steps: list[RunStep] = Field(default_factory=list)


class InboxItem(Contract):
    """Something a person may decide: a workflow review, a run's approval or task."""

    id: str
    kind: InboxKind
    run_id: str | None = None
    thread: str | None = None
    step_id: str | None = None
    approver_role: str | None = None
    request: ReviewRequest
    created_at: datetime
    due_at: datetime | None = None


class Outcome(Contract):
    """The answer to a decision on a run: accepted, or refused with the reason."""

    ok: bool
    message: str


class AlreadyStarted(Exception):
    """Raised by ``RunEngine.start_new`` when the event's id already started a run: ``run``."""

    def __init__(self, run: Run) -> None:
        super().__init__(f"the event already started run {run.id}")
        self.run = run


class RunEngine(Protocol):
    """Start and steer runs; implemented on Temporal and in memory."""

    async def start(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run of ``automation`` (its approved ``draft``) for ``event``.

        An event with a top-level ``id`` starts at most one run per automation: the same
        id again returns the run it started.
        """
        ...

    async def start_new(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run like ``start``, but raise ``AlreadyStarted`` for a repeated event id.

        Of any number of calls with the same event id, concurrent or not, exactly one
        returns the run; the others raise ``AlreadyStarted`` carrying it.
        """
        ...

    async def run(self, run_id: str) -> Run:
        """Return the run's current state (raise ``KeyError`` for an unknown id)."""
        ...

    async def decide(
        self, run_id: str, step_id: str, *, user: str, accept: bool, reason: str | None = None
    ) -> Outcome:
        """Answer the approval or task ``step_id`` of a waiting run as ``user``.

        A refusal (wrong role, separation of duties, already decided, not waiting) is an
        ``Outcome`` with ``ok=False`` that says who can decide; it changes nothing.
        """
        ...

    async def wait(self, run_id: str, timeout: float = 30.0) -> Run:
        """Return the run once it is finished or waiting for a person."""
        ...

    async def retry(self, run_id: str, automation: Automation, draft: WorkflowDraft) -> Run:
        """Start a new run redoing the failed run ``run_id`` from its failed step.

        It runs ``draft`` (the version the failed run ran) with the same event; earlier
        steps keep their results and actions keep their idempotency keys. Raises
        ``ValueError`` when the run did not fail or ran another version.
        """
        ...
