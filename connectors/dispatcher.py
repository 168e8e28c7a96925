"""Run an approved workflow's actions through the connector registry, one result per step."""

from __future__ import annotations

from assistant.schemas import StepResult, WorkflowDraft
from connectors.registry import ConnectorRegistry, UnknownConnector


def idempotency_key(thread: str, content_hash: str, step_id: str) -> str:
    """Return the key that makes a step's action happen once: (thread, content hash, step)."""
    return f"{thread}:{content_hash[:16]}:{step_id}"


class Dispatcher:
    """Perform each action step of an approved draft; never raise for a failed action."""

    def __init__(self, registry: ConnectorRegistry) -> None:
        self.registry = registry

    async def dispatch(self, draft: WorkflowDraft, *, thread: str) -> list[StepResult]:
        """Run ``draft``'s steps in order and return one ``StepResult`` per step."""
        results = []
        for step in draft.steps:
            if step.blocked_reason:
                results.append(
                    StepResult(step_id=step.id, status="blocked", detail=step.blocked_reason)
                )
                continue
            if step.kind != "action":
                results.append(
                    StepResult(
                        step_id=step.id,
                        status="skipped",
                        detail=runtime_note(step.kind, step.approver_role, step.condition),
                    )
                )
                continue
            try:
                connector = self.registry.get(step.connector or "")
            except UnknownConnector as exc:
                results.append(
                    StepResult(step_id=step.id, status="failed", detail=str(exc).strip("'\""))
                )
                continue
            key = idempotency_key(thread, draft.content_hash, step.id)
            outcome = await connector.execute(step.operation or "", step.params, key)
            results.append(
                StepResult(step_id=step.id, status=outcome.status, detail=outcome.detail)
            )
        return results


def runtime_note(kind: str, role: str | None, condition: str | None) -> str:
    """Explain why a non-action step does nothing at dispatch."""
    if kind == "approval":
        return f"approval by {role} happens on each run"
    if kind == "condition":
        return f"condition '{condition}' is evaluated on each run"
    return f"task for {role or 'a person'} is assigned on each run"
