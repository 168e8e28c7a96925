"""Measure what metrics and tracing cost a draft turn and a run, against the same work without.

Run ``python -m assistant.bench.overhead [ROUNDS]``. In one process and one run,
the same draft turns go through the plain chat graph, the observed graph with tracing off
(the default: metrics only) and the observed graph exporting its spans; the same runs go
through the in-memory engine with their actions performed by the worker's activities, bare
or observed (``run_began``, ``action_observed``, ``run_recorded``), untraced or traced.
Modes are interleaved in a rotating order so that a slower moment of the machine hits all
three alike. Prints the medians and the ratios, one row for turns and one for runs.

Spans are sampled as ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` say (all of
them by default), so the cost of a sampling ratio can be measured the same way.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.testing import ActivityEnvironment

from assistant.db.journal import MemoryJournal
from assistant.observability.runs import run_began, run_recorded
from assistant.observability.tracing import record_spans_to, tracer, use_provider
from assistant.observability.turns import ObservedGraph
from assistant.runtime.activities import RunActivities
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.models import Automation, AutomationTrigger, Run
from assistant.runtime.plan import ActionInput, RunInput
from assistant.schemas import Step, WorkflowDraft
from assistant.services import build_services
from assistant.settings import Settings
from connectors.registry import ConnectorRegistry
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner

GOAL = "Route vendor invoices above $10k to the CFO for sign-off and post a note in #finance"
MODES = ("plain", "metrics", "metrics+tracing")
WARM_UP = 5
"""Rounds that warm caches up and are not counted."""

Work = Callable[[str, str], Awaitable[None]]
"""One unit of work in a mode (``plain``, ``metrics``, ``metrics+tracing``), named ``n``."""


async def one_turn(runner: ChatRunner, thread: str) -> float:
    """Return the seconds one draft turn takes."""
    started = time.perf_counter()
    async for _ in runner.send_text(thread, GOAL, "ana"):
        pass
    return time.perf_counter() - started


def run_draft() -> WorkflowDraft:
    """Return the workflow each measured run runs: a condition, then two actions."""
    return WorkflowDraft(
        title="Large invoices",
        goal="Tell finance about every large invoice and open a ticket for it",
        steps=[
            Step(id="s1", title="Large?", kind="condition", condition="invoice.amount > 100"),
            Step(
                id="s2",
                title="Tell finance",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#finance", "text": "Invoice of {{invoice.amount}}"},
            ),
            Step(
                id="s3",
                title="Open a ticket",
                kind="action",
                connector="tickets",
                operation="create_ticket",
                params={"subject": "Invoice {{invoice.id}}", "body": "{{invoice.vendor}}"},
            ),
        ],
    ).sealed()


class RunBench:
    """Runs on the in-memory engine, their actions performed by the worker's activities."""

    def __init__(self) -> None:
        self.draft = run_draft()
        self.automation = Automation(
            id="auto_bench",
            workflow_id=self.draft.id,
            version=self.draft.version,
            content_hash=self.draft.content_hash,
            title=self.draft.title,
            status="active",
            trigger=AutomationTrigger(kind="webhook"),
            owner="mia",
            created_at=datetime.now(UTC),
        )
        self.engine = MemoryEngine()
        """Kept for its policy and directory; each run gets a fresh engine (no growing state)."""
        self.activities = RunActivities(ConnectorRegistry.sandboxed(), MemoryJournal())
        self.activity = ActivityEnvironment()

    async def one_run(self, observed: bool) -> float:
        """Return the seconds one run takes, bare or with its metrics and spans."""
        event = {"invoice": {"id": uuid.uuid4().hex[:10], "amount": 250, "vendor": "Acme"}}
        started = time.perf_counter()
        if observed:
            with tracer().start_as_current_span("POST /hooks"):
                await self.run(event, observed)
        else:
            await self.run(event, observed)
        return time.perf_counter() - started

    async def run(self, event: dict[str, Any], observed: bool) -> Run:
        """Run ``event`` through the engine, then perform each action it reached."""
        engine = MemoryEngine(policy=self.engine.policy, directory=self.engine.directory)
        run = await engine.start(self.automation, self.draft, event)
        if observed:
            run_began(RunInput(automation=self.automation, draft=self.draft, event=event), run.id)
        perform = self.activities.perform_action if observed else self.activities.perform
        for action in [a for a in engine.actions]:
            step = next(s for s in self.draft.steps if s.id == action["step"])
            await self.activity.run(
                perform,
                ActionInput(
                    run_id=run.id,
                    content_hash=self.draft.content_hash,
                    step_id=step.id,
                    connector=step.connector or "",
                    operation=step.operation or "",
                    params=step.params,
                    event=event,
                    outputs={},
                ),
            )
        if observed:
            run_recorded(run)
        return run


async def interleaved(
    rounds: int, provider: TracerProvider, exporter: InMemorySpanExporter, work: Work
) -> dict[str, float]:
    """Time ``rounds`` rounds of ``work`` in each mode, interleaved; return the medians."""
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    for n in range(rounds + WARM_UP):
        # Each mode goes first as often as the others: whoever goes first pays more.
        for mode in MODES[n % 3 :] + MODES[: n % 3]:
            use_provider(provider if mode == "metrics+tracing" else None)
            started = time.perf_counter()
            await work(mode, f"{mode}-{n}")
            took = time.perf_counter() - started
            exporter.clear()
            if n >= WARM_UP:
                timings[mode].append(took)
    use_provider(None)
    return {mode: statistics.median(values) for mode, values in timings.items()}


def row(medians: dict[str, float]) -> dict[str, Any]:
    """Return the medians in milliseconds and each observed mode's ratio to plain."""
    return {
        "median_ms": {mode: round(value * 1000, 2) for mode, value in medians.items()},
        "ratio": {
            mode: round(medians[mode] / medians["plain"], 3)
            for mode in ("metrics", "metrics+tracing")
        },
    }


async def measure(rounds: int) -> dict[str, Any]:
    """Time ``rounds`` draft turns and runs in each mode; return medians and ratios."""
    home = Path(tempfile.mkdtemp(prefix="flowdraft-overhead-"))
    services = build_services(Settings(home=home))
    plain = ChatRunner(build_chat_graph(InMemorySaver()), services.context())
    observed = ChatRunner(ObservedGraph(build_chat_graph(InMemorySaver())), services.context())
    exporter = InMemorySpanExporter()
    provider = record_spans_to(exporter, batch=True)  # batched, as spans go to a collector
    bench = RunBench()

    async def turn(mode: str, name: str) -> None:
        await one_turn(plain if mode == "plain" else observed, name)

    async def run(mode: str, name: str) -> None:
        await bench.one_run(observed=mode != "plain")

    try:
        turns = await interleaved(rounds, provider, exporter, turn)
        runs = await interleaved(rounds, provider, exporter, run)
    finally:
        use_provider(None)
        provider.shutdown()
    return {"rounds": rounds, "draft turn": row(turns), "run": row(runs)}


def main() -> None:
    """Print the measurement as JSON."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    print(json.dumps(asyncio.run(measure(rounds)), indent=2))


if __name__ == "__main__":
    main()
