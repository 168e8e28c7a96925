"""Run an approved workflow's actions through the connectors, each exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable

from assistant.schemas import Step, StepResult, WorkflowDraft
from connectors.ledger import LEASE_SECONDS, Ledger, MemoryLedger, process_owner
from connectors.registry import ConnectorRegistry, UnknownConnector


def idempotency_key(thread: str, content_hash: str, step_id: str) -> str:
    """Return the key that makes a step's action happen once: (thread, content hash, step)."""
    return f"{thread}:{content_hash[:16]}:{step_id}"


RENEW_AFTER = LEASE_SECONDS / 4
"""Seconds between lease renewals during a long dispatch."""

Observer = Callable[[str, Step, str, str], None]
"""Called with (event, step, idempotency key, detail) for "action_started" and "action_result"."""


class DispatchBusy(RuntimeError):
    """Raised when another live process is dispatching the same thread."""


class Dispatcher:
    """Perform each action step of an approved draft; never raise for a failed action."""

    def __init__(
        self,
        registry: ConnectorRegistry,
        ledger: Ledger | None = None,
        owner: str | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.registry = registry
        self.ledger = ledger if ledger is not None else MemoryLedger()
        self.owner = owner or process_owner()
        self.observer = observer or (lambda event, step, key, detail: None)

    async def dispatch(self, draft: WorkflowDraft, *, thread: str) -> list[StepResult]:
        """Run ``draft``'s steps in order and return one ``StepResult`` per step."""
        self.renewed = time.monotonic()
        if not self.ledger.acquire(thread, self.owner):
            raise DispatchBusy(f"thread {thread!r} is being dispatched by another process")
        try:
            return [
                await self.run_step(draft, step_index, thread)
                for step_index in range(len(draft.steps))
            ]
        finally:
            self.ledger.release(thread, self.owner)

    async def run_step(self, draft: WorkflowDraft, index: int, thread: str) -> StepResult:
        """Run one step, consulting the ledger so a resumed dispatch never repeats an action."""
        step = draft.steps[index]
        if step.blocked_reason:
            return StepResult(step_id=step.id, status="blocked", detail=step.blocked_reason)
        if step.kind != "action":
            return StepResult(
                step_id=step.id,
                status="skipped",
                detail=runtime_note(step.kind, step.approver_role, step.condition),
            )
        try:
            connector = self.registry.get(step.connector or "")
        except UnknownConnector as exc:
            return StepResult(step_id=step.id, status="failed", detail=str(exc).strip("'\""))
        key = idempotency_key(thread, draft.content_hash, step.id)
        done = self.ledger.begin(
            key,
            thread=thread,
            content_hash=draft.content_hash,
            step_id=step.id,
            connector=connector.name,
            operation=step.operation or "",
            owner=self.owner,
        )
        if done is not None:
            return StepResult(step_id=step.id, status="ok", detail=f"already done: {done.detail}")
        self.observer("action_started", step, key, f"{connector.name}.{step.operation}")
        outcome = await connector.execute(step.operation or "", step.params, key)
        self.ledger.finish(key, outcome)
        self.observer("action_result", step, key, f"{outcome.status}: {outcome.detail}")
        if time.monotonic() - self.renewed > RENEW_AFTER:
            self.ledger.renew(thread, self.owner)
            self.renewed = time.monotonic()
        return StepResult(step_id=step.id, status=outcome.status, detail=outcome.detail)


def runtime_note(kind: str, role: str | None, condition: str | None) -> str:
    """Explain why a non-action step does nothing at dispatch."""
    if kind == "approval":
        return f"approval by {role} happens on each run"
    if kind == "condition":
        return f"condition '{condition}' is evaluated on each run"
    return f"task for {role or 'a person'} is assigned on each run"
