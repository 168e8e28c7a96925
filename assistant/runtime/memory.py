"""An in-memory ``RunEngine``: interprets an approved draft's steps in-process, for tests.

It follows the same rules as the durable engine: an event missing a field is refused
before any run starts, a repeated event id returns the run it started, conditions are
evaluated safely (``assistant.policy.conditions``), placeholders are filled from the event
and earlier steps' results (a missing one fails the step, naming the field), approvals and
human tasks wait for ``decide`` by someone the role check lets through, and actions are
recorded in ``actions`` instead of sent (shadow runs mark theirs as not performed). Given
a database it keeps the runs index, the inbox and the audit log up to date.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog
from assistant.db.tables import utcnow
from assistant.db.users import Directory, MemoryDirectory
from assistant.policy import conditions
from assistant.policy.rules import Policy, load_policy
from assistant.runtime import inbox, store
from assistant.runtime.deciders import may_decide, requesters_of
from assistant.runtime.inbox import approval_item
from assistant.runtime.models import Automation, Outcome, Run, RunStatus, RunStep
from assistant.runtime.steps import PLACEHOLDER, check_event, guarded_steps, produced_names
from assistant.schemas import WorkflowDraft


class MissingValue(LookupError):
    """Raised when a placeholder names a field that has no value."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no value for {{{{{name}}}}}: the event has no {name}")
        self.name = name


def render(value: Any, values: Mapping[str, Any]) -> Any:
    """Fill ``{{path}}`` placeholders in ``value`` from ``values``; raise ``MissingValue``.

    A text that is exactly one placeholder takes the value itself (a number stays a number).
    """
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value.strip())
        if whole:
            return lookup(values, whole[1])
        return PLACEHOLDER.sub(lambda match: str(lookup(values, match[1])), value)
    if isinstance(value, Mapping):
        return {key: render(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, values) for item in value]
    return value


def lookup(values: Mapping[str, Any], name: str) -> Any:
    """Return the value of a dotted ``name``, or raise ``MissingValue``."""
    try:
        found = conditions.lookup(values, name)
    except conditions.MissingField:
        raise MissingValue(name) from None
    if found is None:
        raise MissingValue(name)
    return found


@dataclass
class RunState:
    """A run and what the interpreter needs to continue it."""

    run: Run
    automation: Automation
    draft: WorkflowDraft
    values: dict[str, Any]
    requesters: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    at: int = 0


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

    async def start(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run for ``event`` (or return the one its event id already started)."""
        check_event(automation.trigger.fields, event)
        event_id = event.get("id")
        key = (automation.id, str(event_id)) if event_id not in (None, "") else None
        if key and key in self.by_event:
            return self.runs[self.by_event[key]].run.model_copy(deep=True)
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
                return indexed  # another process took this event id first
        if key:
            self.by_event[key] = run.id
        state = RunState(run, automation, draft, copy.deepcopy(event), requesters_of(event))
        self.runs[run.id] = state
        self.audit("run_started", run, actor="trigger", data={"event_id": event_id})
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
        if ran.status != "waiting":
            outcome = Outcome(
                ok=False,
                message=f"step {step_id} of run {run_id} is not waiting for a decision "
                f"(it is {ran.status}{', ' + ran.detail if ran.detail else ''})",
            )
        else:
            outcome = may_decide(
                user=user,
                role=step.approver_role,
                requesters=state.requesters,
                directory=self.directory,
                policy=self.policy,
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
        ran.finished_at = utcnow()
        ran.output = {"decided_by": user, "decision": verdict, "reason": reason}
        ran.detail = f"{verdict} by {user}" + (f": {reason}" if reason else "")
        if self.db is not None:
            item_id = inbox.inbox_item_id(run_id, step_id)
            inbox.close_item(self.db, item_id=item_id, user=user, decision=verdict)
        self.audit(
            "run_decision",
            state.run,
            actor=user,
            data={"step": step_id, "decision": verdict, "reason": reason},
        )
        if not accept:
            ran.status = "rejected"
            self.finish(state, "rejected")
            return Outcome(ok=True, message=f"{step.title}: rejected by {user}; the run stops")
        ran.status = "ok"
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
                    for guarded in guarded_steps(state.draft.steps, state.at):
                        state.skipped[guarded] = f"skipped: {step.condition} is false"
            elif step.kind in ("approval", "human_task"):
                ran.status = "waiting"
                ran.detail = f"waiting for {step.approver_role or 'a person'}"
                run.status = "waiting"
                self.open_inbox(state, step.id)
                self.save(run)
                return
            else:
                try:
                    ran.input = render(step.params, state.values)
                except MissingValue as exc:
                    return self.fail(state, ran, str(exc))
                self.act(state, ran)
            ran.finished_at = utcnow()
            state.at += 1
        self.finish(state, "completed")

    def act(self, state: RunState, ran: RunStep) -> None:
        """Record the action of ``ran`` (not performed in a shadow run)."""
        step = state.draft.steps[state.at]
        key = f"{state.run.id}:{step.id}"
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
        self.save(state.run)
        self.audit(f"run_{status}", state.run, actor="flowdraft")

    def open_inbox(self, state: RunState, step_id: str) -> None:
        """Open the inbox item of the waiting step (with a database)."""
        if self.db is None:
            return
        step = next(s for s in state.draft.steps if s.id == step_id)
        item = approval_item(state.run, step, state.automation)
        inbox.open_item(self.db, item=item, requesters=state.requesters)

    def save(self, run: Run) -> None:
        """Write the run's snapshot to the runs index (with a database)."""
        if self.db is not None:
            store.save_run(self.db, run=run)

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
