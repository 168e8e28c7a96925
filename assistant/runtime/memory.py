"""An in-memory ``RunEngine``: interprets an approved draft's steps in-process, for tests.

It follows the same rules as the durable engine: an event missing a field is refused
before any run starts, a repeated event id returns the run it started, conditions are
evaluated safely (``assistant.policy.conditions``), placeholders are rendered by the same
sandboxed templates as Temporal runs (``templates``) from the event
and earlier steps' results (a missing one fails the step, naming the field), approvals and
human tasks wait for ``decide`` by the people the sign-off rules ask for (``signoffs``: the
Approval Matrix on the real amount, separation of duties), and actions are recorded in
``actions`` instead of sent (shadow runs mark theirs as not performed; a connector named in
``failing`` fails its steps, so ``retry`` can redo a failed run from its failed step). Given a database it
keeps the runs index and the inbox (``indexing``, as Temporal runs do) and the audit log.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog
from assistant.db.tables import utcnow
from assistant.db.users import Directory, MemoryDirectory
from assistant.policy import conditions
from assistant.policy.rules import Policy, load_policy
from assistant.runtime import store
from assistant.runtime.deciders import decision_outcome, requesters_of
from assistant.runtime.indexing import record_run
from assistant.runtime.models import (
    AlreadyStarted,
    Automation,
    Outcome,
    Run,
    RunStatus,
    RunStep,
)
from assistant.runtime.plan import RunPlan, guards, resume_point
from assistant.runtime.signoffs import asked_roles, role_for, sign_off_plan
from assistant.runtime.steps import check_event, produced_names
from assistant.runtime.templates import MissingValue, RenderError, render_params
from assistant.schemas import WorkflowDraft


@dataclass
class RunState:
    """A run and what the interpreter needs to continue it."""

    run: Run
    automation: Automation
    draft: WorkflowDraft
    values: dict[str, Any]
    requesters: list[str]
    plan: RunPlan = field(default_factory=RunPlan)
    skipped: dict[str, str] = field(default_factory=dict)
    signed: dict[str, str] = field(default_factory=dict)
    """Who signed this run, and for which role."""
    at: int = 0
    key_run_id: str = ""
    """The run id in idempotency keys (a retry keeps its original run's)."""


class MemoryEngine:
    """A ``RunEngine`` that keeps runs in a dict and finishes each step at once."""

    def __init__(
        self,
        *,
        db: Engine | None = None,
        policy: Policy | None = None,
        directory: Directory | None = None,
    ) -> None:
        self.db = db
        self.policy = policy or load_policy()
        self.directory = directory or MemoryDirectory()
        self.runs: dict[str, RunState] = {}
        self.by_event: dict[tuple[str, str], str] = {}
        self.actions: list[dict[str, Any]] = []
        """Every action a run reached: run, step, connector, operation, input, performed."""
        self.failing: dict[str, str] = {}
        """Connectors that are down, with the error their actions fail with."""
        self.indexes_runs = db is not None
        """With a database, runs write their own snapshots and inbox items (``indexing``)."""

    async def start(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run for ``event`` (or return the one its event id already started)."""
        try:
            return await self.start_new(automation, draft, event)
        except AlreadyStarted as started:
            return started.run

    async def start_new(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run for ``event``; raise ``AlreadyStarted`` if its event id started one."""
        check_event(automation.trigger.fields, event)
        event_id = event.get("id")
        key = (automation.id, str(event_id)) if event_id not in (None, "") else None
        if key and key in self.by_event:
            raise AlreadyStarted(self.runs[self.by_event[key]].run.model_copy(deep=True))
        run = Run(
            id=f"run_{uuid.uuid4().hex[:12]}",
            automation_id=automation.id,
            version=automation.version,
            content_hash=automation.content_hash,
            shadow=automation.status == "shadow",
            event=copy.deepcopy(event),
            started_at=utcnow(),
            steps=[RunStep(step_id=s.id, title=s.title, kind=s.kind) for s in draft.steps],
        )
        if self.db is not None:
            indexed = store.add_run(self.db, run=run)
            if indexed.id != run.id:
                raise AlreadyStarted(indexed)  # another process took this event id first
        if key:
            self.by_event[key] = run.id
        state = RunState(run, automation, draft, copy.deepcopy(event), requesters_of(event))
        state.key_run_id = run.id
        state.plan = sign_off_plan(draft, event, self.policy)
        self.runs[run.id] = state
        self.audit("run_started", run, actor="trigger", data={"event_id": event_id})
        self.advance(state)
        return run.model_copy(deep=True)

    async def retry(self, run_id: str, automation: Automation, draft: WorkflowDraft) -> Run:
        """Start a new run redoing the failed run ``run_id`` from its failed step.

        Earlier steps keep their results and actions keep their idempotency keys. Raises
        ``ValueError`` when the run did not fail or ``draft`` is not the version it ran.
        """
        previous = self.runs[run_id]
        if previous.run.status != "failed":
            raise ValueError(f"run {run_id} is {previous.run.status}; only a failed run is retried")
        if previous.run.content_hash != draft.content_hash:
            raise ValueError(f"run {run_id} ran another version than {draft.content_hash[:12]}")
        state = copy.deepcopy(previous)
        state.automation, state.draft = automation, draft
        state.at = resume_point(previous.run)
        run = state.run
        run.id = f"{state.key_run_id}.retry-{uuid.uuid4().hex[:6]}"
        run.status, run.started_at, run.finished_at = "running", utcnow(), None
        run.steps[state.at :] = [
            RunStep(step_id=s.id, title=s.title, kind=s.kind) for s in draft.steps[state.at :]
        ]
        if self.db is not None:
            store.add_run(self.db, run=run)
        self.runs[run.id] = state
        self.audit("run_started", run, actor="flowdraft", data={"retries": run_id})
        self.advance(state)
        return run.model_copy(deep=True)

    async def run(self, run_id: str) -> Run:
        """Return the run's current state (``KeyError`` for an unknown id)."""
        return self.runs[run_id].run.model_copy(deep=True)

    async def wait(self, run_id: str, timeout: float = 30.0) -> Run:
        """Return the run: in memory it is always finished or waiting for a person."""
        return await self.run(run_id)

    async def decide(
        self, run_id: str, step_id: str, *, user: str, accept: bool, reason: str | None = None
    ) -> Outcome:
        """Answer a waiting approval or task; a refusal changes nothing."""
        state = self.runs.get(run_id)
        if state is None:
            return Outcome(ok=False, message=f"no run {run_id!r}")
        index = next((i for i, s in enumerate(state.run.steps) if s.step_id == step_id), None)
        if index is None:
            return Outcome(ok=False, message=f"run {run_id} has no step {step_id!r}")
        step, ran = state.draft.steps[index], state.run.steps[index]
        needed = [role for role in ran.input.get("needs", []) if role != "any user"]
        if ran.status != "waiting":
            outcome = Outcome(
                ok=False,
                message=f"step {step_id} of run {run_id} is not waiting for a decision "
                f"(it is {ran.status}{', ' + ran.detail if ran.detail else ''})",
            )
        else:
            outcome = decision_outcome(
                user,
                needed,
                requesters=state.requesters if state.plan.separation_of_duties else [],
                directory=self.directory,
                policy=self.policy,
                signed=set(state.signed) if step.kind == "approval" else None,
            )
        if not outcome.ok:
            self.audit(
                "decision_refused",
                state.run,
                actor=user,
                data={"step": step_id, "reason": outcome.message},
            )
            return outcome
        verdict = "accepted" if accept else "rejected"
        self.audit(
            "run_decision",
            state.run,
            actor=user,
            data={"step": step_id, "decision": verdict, "reason": reason},
        )
        ran.finished_at = utcnow()
        if not accept:
            ran.status, ran.output = "rejected", {**ran.output, "rejected_by": user}
            ran.detail = f"rejected by {user}" + (f": {reason}" if reason else "")
            self.finish(state, "rejected")
            return Outcome(ok=True, message=f"{step.title}: rejected by {user}; the run stops")
        role = role_for(self.directory.roles_of(user) or [], needed, state.plan.grants)
        role = role or (needed[0] if needed else "any user")
        if step.kind == "approval":
            state.signed[user] = role
        ran.output = {"signed": [*ran.output.get("signed", []), [user, role]], "reason": reason}
        remaining = [r for r in needed if r != role]
        if remaining:
            ran.input = {"needs": remaining}
            self.save(state)
            still = " and ".join(remaining)
            return Outcome(
                ok=True, message=f"{step.title}: signed by {user}; it still needs {still}"
            )
        ran.status = "ok"
        ran.detail = f"accepted by {user}" + (f": {reason}" if reason else "")
        state.values["approval"] = {"approver": user, "reason": reason}
        state.values[step.id] = ran.output
        state.at = index + 1
        self.advance(state)
        return Outcome(ok=True, message=f"{step.title}: accepted by {user}; the run goes on")

    def advance(self, state: RunState) -> None:
        """Run steps from ``state.at`` until one waits for a person or the run ends."""
        run = state.run
        run.status = "running"
        while state.at < len(state.draft.steps):
            step, ran = state.draft.steps[state.at], run.steps[state.at]
            ran.started_at = ran.started_at or utcnow()
            ran.attempts += 1
            if step.id in state.skipped:
                ran.status, ran.detail, ran.attempts = "skipped", state.skipped[step.id], 0
            elif step.blocked_reason:
                ran.status, ran.detail = "blocked", step.blocked_reason
            elif step.kind == "condition":
                try:
                    holds = conditions.evaluate(step.condition or "", state.values)
                except conditions.ConditionError as exc:
                    return self.fail(state, ran, f"condition failed: {exc}")
                ran.status, ran.output = "ok", {"result": holds}
                ran.detail = f"{step.condition} is {'true' if holds else 'false'}"
                if not holds:
                    for guarded in guards(state.draft).get(step.id, []):
                        state.skipped[guarded] = f"skipped: {step.condition} is false"
            elif step.kind in ("approval", "human_task") and self.ask(state, ran):
                return
            else:
                try:
                    # Earlier results are in the values under their names (s1, ticket, ...).
                    ran.input = render_params(step.params, state.values, {})
                except (MissingValue, RenderError) as exc:
                    return self.fail(state, ran, str(exc))
                self.act(state, ran)
                if ran.status == "failed":
                    return
            ran.finished_at = utcnow()
            state.at += 1
        self.finish(state, "completed")

    def act(self, state: RunState, ran: RunStep) -> None:
        """Record the action of ``ran`` (not performed in a shadow run)."""
        step = state.draft.steps[state.at]
        key = f"{state.key_run_id or state.run.id}:{step.id}"
        if step.connector in self.failing:
            return self.fail(state, ran, f"{step.connector}: {self.failing[step.connector]}")
        performed = not state.run.shadow
        self.actions.append(
            {
                "run": state.run.id,
                "step": step.id,
                "connector": step.connector,
                "operation": step.operation,
                "input": ran.input,
                "performed": performed,
                "idempotency_key": key,
            }
        )
        ran.status = "ok"
        ran.output = {"idempotency_key": key, "performed": performed}
        if step.operation == "create_ticket":
            ran.output["id"] = f"MEM-{len(self.actions)}"
        ran.detail = "recorded (shadow run: not performed)" if not performed else "performed"
        for name in produced_names(step):
            state.values[name] = ran.output
        self.audit(
            "run_action",
            state.run,
            actor="flowdraft",
            data={"step": step.id, "operation": step.operation, "performed": performed, "key": key},
        )

    def fail(self, state: RunState, ran: RunStep, detail: str) -> None:
        """Fail ``ran`` with ``detail`` and end the run as failed."""
        ran.status, ran.detail, ran.finished_at = "failed", detail, utcnow()
        self.finish(state, "failed")

    def finish(self, state: RunState, status: RunStatus) -> None:
        """End the run with ``status``; later steps stay pending."""
        state.run.status = status
        state.run.finished_at = utcnow()
        self.save(state)
        self.audit(f"run_{status}", state.run, actor="flowdraft")

    def ask(self, state: RunState, ran: RunStep) -> bool:
        """Wait for the roles the sign-off rules ask of this step; False when none are left."""
        needed = asked_roles(
            state.draft,
            state.at,
            state.plan,
            guarded=guards(state.draft),
            skip=state.skipped,
            values=state.values,
            signed=state.signed,
        )
        if needed is None:
            by = ", ".join(f"{user} ({role})" for user, role in state.signed.items())
            ran.status, ran.detail = "ok", f"already signed in this run by {by}"
            return False
        ran.input = {"needs": needed or ["any user"]}
        ran.status, ran.detail = "waiting", f"waiting for {' and '.join(needed) or 'a person'}"
        state.run.status = "waiting"
        self.save(state)
        return True

    def save(self, state: RunState) -> None:
        """Write the run's snapshot and its inbox items (with a database)."""
        if self.db is not None:
            record_run(self.db, run=state.run, title=state.automation.title)

    def audit(
        self, event: str, run: Run, *, actor: str, data: dict[str, Any] | None = None
    ) -> None:
        """Audit ``event`` under the run's id (with a database)."""
        if self.db is not None:
            AuditLog(self.db).append(
                event,
                actor=actor,
                thread=run.id,
                content_hash=run.content_hash,
                data={"automation": run.automation_id, **(data or {})},
            )
