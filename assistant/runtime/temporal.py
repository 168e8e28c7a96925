"""``RunEngine`` on Temporal: start runs, read them, decide their sign-offs, wait for them."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from assistant.db.journal import Journal
from assistant.db.users import Directory
from assistant.policy.rules import Policy, load_policy
from assistant.runtime.deciders import requesters_of, who_can
from assistant.runtime.models import FINISHED, AlreadyStarted, Automation, Outcome, Run
from assistant.runtime.plan import (
    Decision,
    RunInput,
    RunOptions,
    RunRefused,
    admission_problem,
    initial_run,
)
from assistant.runtime.temporal_schedules import RunSchedules
from assistant.runtime.workflows import RunAutomation
from assistant.schemas import WorkflowDraft

RETRY = ".retry-"
"""Between a run's id and a retry's suffix."""
POLL = 0.05
"""Seconds between looks at a run while waiting for it to settle."""


def run_id_for(automation: Automation, event: dict[str, Any]) -> str:
    """Return the run (workflow) id: from the event's ``id`` when it has one, so it dedupes."""
    event_id = event.get("id")
    suffix = str(event_id) if event_id not in (None, "") else uuid.uuid4().hex[:16]
    return f"{automation.id}.{suffix}"


class TemporalEngine:
    """Runs as Temporal workflow executions on ``task_queue``.

    ``directory`` supplies the roles of whoever decides; ``journal`` records refusals (the
    workflow itself audits starts, decisions, actions and ends).
    """

    indexes_runs = True
    """Runs write their own snapshots to the runs index and the inbox (see ``indexing``)."""

    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        directory: Directory,
        journal: Journal,
        options: RunOptions | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.client = client
        self.policy = policy or load_policy()
        self.task_queue = task_queue
        self.directory = directory
        self.journal = journal
        self.options = options or RunOptions()
        self.schedules = RunSchedules(client, task_queue=task_queue, options=self.options)

    async def start(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run of ``automation`` for ``event``; a repeated event id returns its run.

        Raises ``RunRefused`` when the automation is paused or retired, or the event lacks
        a field its steps use (``automation.trigger.fields``).
        """
        try:
            return await self.start_new(automation, draft, event)
        except AlreadyStarted as started:
            return started.run

    async def start_new(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run like ``start``; raise ``AlreadyStarted`` for a repeated event id.

        Temporal admits one workflow per id, so of concurrent starts of one event id
        exactly one creates the run, whichever process they come from.
        """
        problem = admission_problem(automation, event)
        if problem is not None:
            self.journal.event(
                "run_refused", actor="flowdraft", thread=automation.id, reason=problem
            )
            raise RunRefused(problem)
        run_id = run_id_for(automation, event)
        data = RunInput(
            automation=automation,
            draft=draft,
            event=event,
            shadow=automation.status == "shadow",
            options=self.options,
            received_at=datetime.now(UTC),
        )
        try:
            await self.client.start_workflow(
                RunAutomation.run,
                data,
                id=run_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError:
            raise AlreadyStarted(await self.run(run_id)) from None
        # What the run shows before its first step, without a round trip to the worker.
        return initial_run(run_id, data, datetime.now(UTC))

    async def retry(self, run_id: str, automation: Automation, draft: WorkflowDraft) -> Run:
        """Start a new run that redoes a failed run from its failed step, on the same version.

        Steps before the failed one keep their results; actions keep their idempotency keys,
        so an action a receiver already got is not performed twice. Raises ``ValueError``
        when the run did not fail or ``draft`` is not the version it ran.
        """
        previous = await self.run(run_id)
        if previous.status != "failed":
            raise ValueError(f"run {run_id} is {previous.status}; only a failed run is retried")
        if previous.content_hash != draft.content_hash:
            raise ValueError(f"run {run_id} ran another version than {draft.content_hash[:12]}")
        origin = run_id.split(RETRY)[0]
        data = RunInput(
            automation=automation,
            draft=draft,
            event=previous.event,
            shadow=previous.shadow,
            options=self.options,
            received_at=datetime.now(UTC),
            previous=previous,
            key_run_id=origin,
        )
        new_id = f"{origin}{RETRY}{uuid.uuid4().hex[:6]}"
        await self.client.start_workflow(
            RunAutomation.run, data, id=new_id, task_queue=self.task_queue
        )
        self.journal.event(
            "run_retried", actor=automation.owner, thread=new_id, run_id=new_id, retries=run_id
        )
        return initial_run(new_id, data, datetime.now(UTC))

    async def run(self, run_id: str) -> Run:
        """Return the run's current state; ``KeyError`` for an unknown id."""
        handle = self.client.get_workflow_handle_for(RunAutomation.run, run_id)
        try:
            described = await handle.describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise KeyError(run_id) from None
            raise
        if described.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED:
            return await handle.result()
        return await handle.query(RunAutomation.current)

    async def decide(
        self, run_id: str, step_id: str, *, user: str, accept: bool, reason: str | None = None
    ) -> Outcome:
        """Answer a waiting step as ``user``; a refusal names who can decide."""
        roles = self.directory.roles_of(user)
        decision = Decision(step_id=step_id, user=user, roles=roles, accept=accept, reason=reason)
        handle = self.client.get_workflow_handle_for(RunAutomation.run, run_id)
        try:
            message = await handle.execute_update(RunAutomation.decide, decision)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            text = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
            needed: list[str] = []
            if isinstance(cause, ApplicationError) and cause.details:
                needed = list(dict(cause.details[0]).get("needed", []))
            if needed:
                requesters = requesters_of((await self.run(run_id)).event)
                text = f"{text}; {who_can(needed[0], requesters, self.directory, self.policy)}"
            self.journal.event(
                "run_decision_refused",
                actor=user,
                thread=run_id,
                run_id=run_id,
                step_id=step_id,
                reason=text,
            )
            return Outcome(ok=False, message=text)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return Outcome(ok=False, message=f"no run {run_id} is waiting for a decision")
            raise
        return Outcome(ok=True, message=message)

    async def wait(self, run_id: str, timeout: float = 30.0) -> Run:
        """Return the run once it is finished or waiting for a person."""
        deadline = time.monotonic() + timeout
        while True:
            run = await self.run(run_id)
            if run.status in FINISHED or run.status == "waiting":
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id} is still {run.status} after {timeout:g}s")
            await asyncio.sleep(POLL)
