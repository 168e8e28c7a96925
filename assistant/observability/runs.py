"""Spans and metrics of runs, their steps and their connector calls (inside activities).

The Temporal interceptor (see ``tracing.temporal_interceptors``) gives each activity a span
in the trace of whoever started the run. Here each connector call gets its own span with
its idempotency key and outcome, and a finished run adds a ``run`` span with one child per
step, timed from the run's own record: waits for people included, however long.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from assistant.observability import metrics
from assistant.observability.tracing import tracer
from assistant.runtime.models import FINISHED, Run
from assistant.runtime.plan import ActionInput, ActionOutcome, RunInput
from connectors.base import idempotency_key


def run_attributes(run: Run) -> dict[str, Any]:
    """Return the attributes that tie a span to its run, automation and version."""
    return {
        "flowdraft.run_id": run.id,
        "flowdraft.automation_id": run.automation_id,
        "flowdraft.version": run.version,
        "flowdraft.content_hash": run.content_hash,
        "flowdraft.shadow": run.shadow,
    }


def run_began(run: RunInput, run_id: str) -> None:
    """Count a started run and mark the current span with what it runs."""
    metrics.run_started(run.automation.id)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(
            {
                "flowdraft.run_id": run_id,
                "flowdraft.automation_id": run.automation.id,
                "flowdraft.workflow_id": run.draft.id,
                "flowdraft.version": run.draft.version,
                "flowdraft.content_hash": run.draft.content_hash,
                "flowdraft.owner": run.automation.owner,
                "flowdraft.approvers": ",".join(run.automation.approved_by),
            }
        )


@dataclass
class ActionCall:
    """What one connector call came to, filled in by the caller."""

    outcome: ActionOutcome | None = None


def error_class(outcome: ActionOutcome) -> str:
    """Name the kind of failure: ``render`` (a value missing) or ``failed`` (refused)."""
    return "render" if not outcome.input and not outcome.output else "failed"


@contextmanager
def action_observed(action: ActionInput) -> Iterator[ActionCall]:
    """Time one action in a ``step`` span; record its outcome, or the exception class."""
    key = idempotency_key(action.run_id, action.content_hash, action.step_id)
    what = f"{action.connector}.{action.operation}"
    call = ActionCall()
    started = time.perf_counter()
    with tracer().start_as_current_span(
        f"step {action.step_id} {what}",
        attributes={
            "flowdraft.run_id": action.run_id,
            "flowdraft.step_id": action.step_id,
            "flowdraft.content_hash": action.content_hash,
            "flowdraft.connector": action.connector,
            "flowdraft.operation": action.operation,
            "flowdraft.idempotency_key": key,
            "flowdraft.shadow": action.shadow,
        },
    ) as span:
        try:
            yield call
        except Exception as exc:
            metrics.connector_called(
                action.connector, "error", time.perf_counter() - started, type(exc).__name__
            )
            raise
        outcome = call.outcome
        status = outcome.status if outcome is not None else "failed"
        error = error_class(outcome) if outcome is not None and status != "ok" else ""
        metrics.connector_called(action.connector, status, time.perf_counter() - started, error)
        span.set_attribute("flowdraft.outcome", status)
        if status != "ok":
            span.set_status(Status(StatusCode.ERROR, (outcome.detail if outcome else "")[:200]))


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """Return the seconds from ``start`` to ``end``, or None if either is missing."""
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def ns(moment: datetime) -> int:
    """Return ``moment`` as nanoseconds since the epoch (OpenTelemetry's span times)."""
    return int(moment.timestamp() * 1_000_000_000)


def run_recorded(run: Run) -> None:
    """Once a run has finished: count it, time its steps, and add its ``run`` span."""
    if run.status not in FINISHED:
        return
    metrics.run_finished(
        run.automation_id, run.status, seconds_between(run.started_at, run.finished_at)
    )
    for step in run.steps:
        took = seconds_between(step.started_at, step.finished_at)
        if took is not None:
            metrics.step_finished(step.kind, step.status, took)
    if not trace.get_current_span().is_recording() or run.finished_at is None:
        return
    span = tracer().start_span(
        f"run {run.id}",
        attributes={**run_attributes(run), "flowdraft.status": run.status},
        start_time=ns(run.started_at),
    )
    context = trace.set_span_in_context(span)
    for step in run.steps:
        if step.started_at is None or step.finished_at is None:
            continue
        child = tracer().start_span(
            f"{step.kind} {step.step_id}",
            context=context,
            attributes={
                "flowdraft.step_id": step.step_id,
                "flowdraft.step_kind": step.kind,
                "flowdraft.status": step.status,
                "flowdraft.attempts": step.attempts,
                "flowdraft.detail": step.detail[:200],
                **approvers(step.output),
            },
            start_time=ns(step.started_at),
        )
        child.end(end_time=ns(step.finished_at))
    span.end(end_time=ns(run.finished_at))


def approvers(output: dict[str, Any]) -> dict[str, str]:
    """Return who signed or rejected a step, as span attributes."""
    found: dict[str, str] = {}
    signed = output.get("signed") or []
    if signed:
        found["flowdraft.approver"] = ",".join(str(entry[0]) for entry in signed)
    if output.get("rejected_by"):
        found["flowdraft.rejected_by"] = str(output["rejected_by"])
    return found
