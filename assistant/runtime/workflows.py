"""The one generic Temporal workflow that runs an approved version's steps for an event.

Deterministic and free of I/O: conditions are evaluated by walking their parsed form,
sign-offs wait on a validated Update, and everything that touches the world (policy for the
real values, connectors, the audit journal) is an activity. See ``plan`` for the guard and
separation-of-duties rules.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from assistant.policy.conditions import ConditionError, evaluate
    from assistant.runtime.deadlines import Phase, due_at, escalate, hours_text, wait_for_decision
    from assistant.runtime.models import Run, RunStatus, RunStep, RunStepStatus
    from assistant.runtime.plan import (
        ActionInput,
        ActionOutcome,
        AuditEntry,
        Decision,
        RunInput,
        RunOptions,
        RunPlan,
        RunSnapshot,
        Waiting,
        guards,
        initial_run,
        resume_point,
    )
    from assistant.runtime.signoffs import asked_roles, refusal, role_for
    from assistant.schemas import Step

QUICK = timedelta(seconds=30)
"""Timeout of the bookkeeping activities (policy, audit)."""


@workflow.defn(name="run_automation")
class RunAutomation:
    """Interpret the steps of one approved version for one event."""

    @workflow.init
    def __init__(self, run: RunInput) -> None:
        self.input = run
        self.state = initial_run(workflow.info().workflow_id, run, workflow.now())
        self.plan = RunPlan()
        self.waiting: Waiting | None = None
        self.rejected: Decision | None = None
        self.expired = False
        """Whether the waiting step expired undecided (the run ends cancelled)."""
        self.signed: dict[str, str] = {}
        """Who signed this run, and for which role."""
        self.outputs: dict[str, Any] = {}
        self.guarded = guards(run.draft)
        self.skip: dict[str, str] = {}
        """Steps a false condition guards, with the reason shown for them."""
        self.audits: list[workflow.ActivityHandle[Any]] = []
        """Decision audits in flight; the run ends once they are written."""
        self.reporting: workflow.ActivityHandle[Any] | None = None
        """A snapshot being written beside an action."""
        self.unreported = False
        """The run moved on (started, or a decision let it go on) since its last snapshot."""

    @workflow.run
    async def run(self, run: RunInput) -> Run:
        """Run every step in order; return the finished run."""
        self.plan = await workflow.execute_local_activity(
            "plan_run", run, result_type=RunPlan, start_to_close_timeout=QUICK
        )
        start = self.restore(run.previous) if run.previous else 0
        self.unreported = True
        for index, step in enumerate(run.draft.steps[start:], start):
            record = self.state.steps[index]
            if step.id in self.skip:
                self.finish(record, "skipped", self.skip[step.id])
                continue
            if step.blocked_reason:
                self.finish(record, "blocked", step.blocked_reason)
                continue
            if step.kind == "condition":
                holds = self.check(step, record)
                if holds is None:
                    return await self.end("failed")
                if not holds:
                    reason = f"skipped: {step.id} ({step.condition}) is false"
                    self.skip |= dict.fromkeys(self.guarded.get(step.id, []), reason)
            elif step.kind in ("approval", "human_task"):
                if not await self.ask(index, step, record):
                    # An expired request is withdrawn, not refused by anyone: resubmit it.
                    return await self.end("cancelled" if self.expired else "rejected")
            elif not await self.act(step, record):
                return await self.end("failed")
        return await self.end("completed")

    def restore(self, previous: Run) -> int:
        """Keep what a failed run did before its failed step; return where to go on."""
        start = resume_point(previous)
        for index, record in enumerate(previous.steps[:start]):
            self.state.steps[index] = record
            if record.kind == "action" and record.status == "ok":
                self.outputs[record.step_id] = record.output
            elif record.status == "skipped":
                self.skip[record.step_id] = record.detail
            if record.kind == "approval":
                self.signed |= {user: role for user, role in record.output.get("signed", [])}
        return start

    def check(self, step: Step, record: RunStep) -> bool | None:
        """Evaluate a condition on the event; None (step failed) when it cannot be."""
        record.started_at = workflow.now()
        try:
            holds = evaluate(step.condition or "", self.values())
        except ConditionError as exc:
            self.finish(record, "failed", f"{step.condition}: {exc}")
            return None
        guarded = self.guarded.get(step.id, [])
        record.output = {"holds": holds, "guards": guarded}
        verb = "runs" if holds else "skips"
        self.finish(
            record,
            "ok",
            f"{step.condition}: {str(holds).lower()}; {verb} {', '.join(guarded) or 'nothing'}",
        )
        return holds

    def values(self) -> dict[str, Any]:
        """Return what conditions see: the event and earlier steps' outputs."""
        return {**self.input.event, "steps": self.outputs}

    async def ask(self, index: int, step: Step, record: RunStep) -> bool:
        """Wait until the people this step needs accept it; False when someone rejects."""
        kind: Literal["approval", "human_task"] = (
            "approval" if step.kind == "approval" else "human_task"
        )
        record.started_at = workflow.now()
        needed = asked_roles(
            self.input.draft,
            index,
            self.plan,
            guarded=self.guarded,
            skip=self.skip,
            values=self.values(),
            signed=self.signed,
        )
        if needed is None:
            by = ", ".join(f"{user} ({role})" for user, role in self.signed.items())
            self.finish(record, "ok", f"already signed in this run by {by}")
            return True
        record.input = {"needs": needed or ["any user"]}
        self.waiting = Waiting(step_id=step.id, kind=kind, needed=needed)
        record.status = "waiting"
        self.state.status = "waiting"
        deadline, since = self.plan.deadline, record.started_at
        if deadline is not None:
            record.input["due_at"] = due_at(deadline, since, escalated=False).isoformat()
        await self.report()
        decided = await wait_for_decision(
            lambda: self.waiting is None or self.rejected is not None,
            deadline,
            since,
            lambda phase: self.overdue(phase, record),
        )
        self.state.status = "running"
        if not decided and deadline is not None:
            self.waiting, self.expired = None, True
            self.audit("run_expired", {"step_id": step.id})
            self.finish(
                record,
                "rejected",
                f"expired: no decision within {hours_text(deadline.expire_after)}; "
                "resubmit the request",
            )
            return False
        if self.rejected is not None:
            reason = f": {self.rejected.reason}" if self.rejected.reason else ""
            record.output = {**record.output, "rejected_by": self.rejected.user}
            self.finish(record, "rejected", f"rejected by {self.rejected.user}{reason}")
            return False
        signers = ", ".join(f"{user} ({role})" for user, role in record.output.get("signed", []))
        verb = "done" if kind == "human_task" else "approved"
        self.finish(record, "ok", f"{verb} by {signers}")
        self.unreported = True
        return True

    @workflow.update(name="decide")
    def decide(self, decision: Decision) -> str:
        """Apply an accepted or rejected decision on the waiting step; say what it did.

        The decision's audit is started here and awaited before the run ends, so neither
        the answer to the decider nor the next step waits for it.
        """
        answer = self.apply(decision)
        self.audit(
            "run_decision",
            {
                "step_id": decision.step_id,
                "accept": decision.accept,
                "reason": decision.reason,
                "outcome": answer,
            },
            actor=decision.user,
        )
        return answer

    def apply(self, decision: Decision) -> str:
        """Record a validated decision on the waiting step."""
        waiting = self.waiting
        assert waiting is not None
        record = next(s for s in self.state.steps if s.step_id == decision.step_id)
        if not decision.accept:
            self.rejected = decision
            self.waiting = None
            return f"{decision.step_id} rejected by {decision.user}; the run ends rejected"
        role = role_for(decision.roles or [], waiting.needed, self.plan.grants) or "any user"
        if waiting.kind == "approval":
            self.signed[decision.user] = role
        record.output = {"signed": [*record.output.get("signed", []), [decision.user, role]]}
        waiting.needed = [r for r in waiting.needed if r != role]
        if waiting.needed:
            still = " and ".join(waiting.needed)
            return f"{decision.step_id} signed by {decision.user} as {role}; it still needs {still}"
        self.waiting = None
        self.state.status = "running"
        return f"{decision.step_id} accepted by {decision.user}; the run goes on"

    @decide.validator
    def validate_decision(self, decision: Decision) -> None:
        """Refuse, before anything is recorded, a decision this person may not make."""
        signed = set(self.signed)
        reason = refusal(decision, self.waiting, self.plan, self.input.event, signed)
        if reason is not None:
            waiting = self.waiting
            ups = [up for roles in waiting.escalated_to.values() for up in roles] if waiting else []
            needed = [*waiting.needed, *ups] if waiting else []
            raise ApplicationError(reason, {"needed": needed}, type="Refused", non_retryable=True)

    def overdue(self, phase: Phase, record: RunStep) -> None:
        """Remind the deciders of an overdue step, or let the next tier up decide it too."""
        waiting, deadline = self.waiting, self.plan.deadline
        assert waiting is not None and deadline is not None
        if phase == "remind":
            record.detail = f"reminded after {hours_text(deadline.remind_after or 0)}"
            self.audit("run_reminded", {"step_id": waiting.step_id, "needs": waiting.needed})
        else:
            ups = escalate(waiting, record, deadline, self.plan.grants)
            self.audit(
                "run_escalated", {"step_id": waiting.step_id, "needs": waiting.needed, "to": ups}
            )
        # The inbox shows the new due time and who may now decide; the next report awaits it.
        # A finished earlier report (the reminder's) is not one to wait on: this one goes out.
        earlier = self.reporting
        if earlier is None or (earlier.done() and workflow.patched("report-each-deadline")):
            self.reporting = workflow.start_activity(
                "record_run", self.snapshot(), start_to_close_timeout=QUICK
            )

    def audit(self, name: str, data: dict[str, Any], actor: str = "flowdraft") -> None:
        """Start writing an audit event about this run; the run ends once it is written."""
        entry = AuditEntry(
            name=name,
            run_id=self.state.id,
            actor=actor,
            content_hash=self.state.content_hash,
            data=data,
        )
        self.audits.append(
            workflow.start_activity("audit_run", entry, start_to_close_timeout=QUICK)
        )

    @workflow.query(name="state")
    def current(self) -> Run:
        """Return the run as the contract shows it."""
        return self.state

    async def act(self, step: Step, record: RunStep) -> bool:
        """Perform an action step through its connector; False when it failed."""
        record.status = "running"
        record.started_at = workflow.now()
        options = self.input.options
        try:
            outcome = await self.perform(step, options)
        except ActivityError as exc:
            # Every attempt crashed or timed out: the step fails with the last reason.
            reason = exc.cause.message if isinstance(exc.cause, FailureError) else str(exc)
            outcome = ActionOutcome(
                status="failed",
                detail=f"{step.connector}.{step.operation} gave up after {options.attempts} "
                f"attempts: {reason}",
                attempts=options.attempts,
            )
        record.input, record.output, record.attempts = (
            outcome.input,
            outcome.output,
            outcome.attempts,
        )
        self.outputs[step.id] = outcome.output
        self.finish(record, outcome.status, outcome.detail)
        return outcome.status == "ok"

    async def perform(self, step: Step, options: RunOptions) -> ActionOutcome:
        """Run the action activity, retried on crashes, lost workers and timeouts.

        A snapshot the run owes is started after the action, so the action does not wait.
        """
        action = workflow.start_activity(
            "perform_action",
            ActionInput(
                run_id=self.input.key_run_id or self.state.id,
                content_hash=self.state.content_hash,
                step_id=step.id,
                connector=step.connector or "",
                operation=step.operation or "",
                params=step.params,
                event=self.input.event,
                outputs=self.outputs,
                shadow=self.input.shadow,
            ),
            result_type=ActionOutcome,
            start_to_close_timeout=timedelta(seconds=options.action_timeout),
            heartbeat_timeout=timedelta(seconds=options.heartbeat_timeout),
            retry_policy=RetryPolicy(
                maximum_attempts=options.attempts, initial_interval=timedelta(seconds=1)
            ),
        )
        if self.unreported and self.reporting is None:
            self.unreported = False
            self.reporting = workflow.start_activity(
                "record_run", self.snapshot(), start_to_close_timeout=QUICK
            )
        return await action

    def finish(self, record: RunStep, status: RunStepStatus, detail: str) -> None:
        """Close a step with its status and a sentence saying why."""
        record.status = status
        record.detail = detail
        record.started_at = record.started_at or workflow.now()
        record.finished_at = workflow.now()

    def snapshot(self) -> RunSnapshot:
        """Return the run's state as the runs index and the inbox take it."""
        return RunSnapshot(run=self.state.model_copy(deep=True), title=self.input.automation.title)

    async def report(self) -> None:
        """Write the run's state to the runs index and the inbox (see ``indexing``).

        A snapshot still being written is awaited first, so they land in the run's order.
        """
        if self.reporting is not None:
            await self.reporting
            self.reporting = None
        self.unreported = False
        await workflow.execute_local_activity(
            "record_run", self.snapshot(), start_to_close_timeout=QUICK
        )

    async def end(self, status: RunStatus) -> Run:
        """Close the run, skip what never started, audit the end, and return the run."""
        for record in self.state.steps:
            if record.status == "pending":
                record.status = "skipped"
                record.detail = f"not reached: the run {status}"
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self.audits)
        self.state.status = status
        self.state.finished_at = workflow.now()
        await workflow.execute_local_activity(
            "audit_run",
            AuditEntry(
                name="run_finished",
                run_id=self.state.id,
                actor="flowdraft",
                content_hash=self.state.content_hash,
                data={"status": status},
            ),
            start_to_close_timeout=QUICK,
        )
        await self.report()
        return self.state
