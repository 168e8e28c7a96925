"""The I/O a run does, as Temporal activities: policy for the real values, actions, audit,
and the run's snapshots in the app database (see ``indexing``)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy.engine import Engine
from temporalio import activity

from assistant.db.journal import Journal
from assistant.observability.runs import action_observed, run_began, run_recorded
from assistant.policy.rules import Policy, load_policy
from assistant.runtime.indexing import record_run
from assistant.runtime.plan import (
    ActionInput,
    ActionOutcome,
    AuditEntry,
    RunInput,
    RunPlan,
    RunSnapshot,
)
from assistant.runtime.signoffs import sign_off_plan
from assistant.runtime.templates import MissingValue, RenderError, render_params
from connectors.base import ParamsError, idempotency_key
from connectors.registry import ConnectorRegistry, UnknownConnector

HEARTBEAT_EVERY = 1.0
"""Seconds between heartbeats while a connector call is in flight."""


class RunActivities:
    """Activities bound to the services they use; the worker registers their methods."""

    def __init__(
        self,
        registry: ConnectorRegistry,
        journal: Journal,
        policy: Policy | None = None,
        *,
        db: Engine | None = None,
    ) -> None:
        self.registry = registry
        self.journal = journal
        self.policy = policy or load_policy()
        self.db = db
        """The app database whose runs index and inbox the runs keep current (None: none)."""

    @activity.defn(name="plan_run")
    async def plan_run(self, run: RunInput) -> RunPlan:
        """Check policy against this run's real values and record that the run started."""
        plan = sign_off_plan(run.draft, run.event, self.policy)
        run_id = activity.info().workflow_id or ""
        run_began(run, run_id)
        self.journal.event(
            "run_started",
            actor=run.automation.owner,
            thread=run_id,
            content_hash=run.draft.content_hash,
            run_id=run_id,
            automation_id=run.automation.id,
            version=run.draft.version,
            shadow=run.shadow,
            amount=plan.amount,
            tier=plan.tier,
            roles=plan.roles,
        )
        return plan

    @activity.defn(name="perform_action")
    async def perform_action(self, action: ActionInput) -> ActionOutcome:
        """Perform one action, timed and traced with its idempotency key and outcome."""
        with action_observed(action) as call:
            call.outcome = await self.perform(action)
        return call.outcome

    async def perform(self, action: ActionInput) -> ActionOutcome:
        """Render the params, then call the connector once per (run, step); shadow records."""
        attempt = activity.info().attempt
        try:
            params = render_params(action.params, action.event, action.outputs)
        except (MissingValue, RenderError) as exc:
            return ActionOutcome(status="failed", detail=str(exc), attempts=attempt)
        key = idempotency_key(action.run_id, action.content_hash, action.step_id)
        what = f"{action.connector}.{action.operation}"
        try:
            connector = self.registry.get(action.connector)
            if action.shadow:
                connector.validate(action.operation, params)
                detail = f"shadow run: recorded, not performed: {what}"
                outcome = ActionOutcome(
                    status="ok", input=params, output={"shadow": True}, detail=detail
                )
            else:
                result = await self._heartbeating(connector.execute(action.operation, params, key))
                outcome = ActionOutcome(
                    status="ok" if result.status == "ok" else "failed",
                    input=params,
                    output={
                        "external_id": result.external_id,
                        "sandbox": result.sandbox,
                        **result.data,
                    },
                    detail=result.detail,
                )
        except (UnknownConnector, KeyError, ParamsError) as exc:
            outcome = ActionOutcome(
                status="failed", input=params, detail=f"{what}: {str(exc).strip(chr(39))}"
            )
        outcome.attempts = attempt
        self.journal.event(
            "run_action",
            actor="flowdraft",
            thread=action.run_id,
            content_hash=action.content_hash,
            run_id=action.run_id,
            step_id=action.step_id,
            action=what,
            status=outcome.status,
            shadow=action.shadow,
            idempotency_key=key,
            detail=outcome.detail,
        )
        return outcome

    async def _heartbeating(self, call: Any) -> Any:
        """Await ``call`` while heartbeating, so a dead worker's attempt is noticed quickly."""
        task = asyncio.ensure_future(call)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
                if done:
                    return task.result()
                activity.heartbeat()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @activity.defn(name="audit_run")
    async def audit_run(self, entry: AuditEntry) -> None:
        """Append an audit event about a run (decisions, the end of the run)."""
        self.journal.event(
            entry.name,
            actor=entry.actor,
            thread=entry.run_id,
            content_hash=entry.content_hash,
            run_id=entry.run_id,
            **entry.data,
        )

    @activity.defn(name="record_run")
    def record_run(self, snapshot: RunSnapshot) -> None:
        """Write the run's snapshot to the runs index and open or close its inbox items.

        Synchronous, so the database work runs on the worker's activity threads and never
        blocks the event loop it shares with ``flowdraft serve``.
        """
        run_recorded(snapshot.run)
        if self.db is not None:
            record_run(self.db, run=snapshot.run, title=snapshot.title)

    def all(self) -> list[Any]:
        """Return the activity callables a worker registers."""
        return [self.plan_run, self.perform_action, self.audit_run, self.record_run]
