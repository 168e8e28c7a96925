"""Measure run latency on the embedded engine against a bare Temporal workflow.

``python -m assistant.bench.runs [RUNS]`` starts a dev server in a temporary folder and
reports, p50/p95 in milliseconds: event → first action, approval → next action, and event →
finished, for the automation workflow and for a bare workflow with the same number of no-op
activities (and the same update-driven wait), plus the dev server's memory.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from assistant.db.engine import make_engine
from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.runtime.activities import RunActivities
from assistant.runtime.baseline import BARE_CLOCK, BareWorkflow, Clock, noop
from assistant.runtime.engine import EmbeddedTemporal, connect
from assistant.runtime.models import Automation
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.worker import STICKY_TIMEOUT, build_worker
from assistant.schemas import Step, WorkflowDraft
from assistant.settings import TemporalSettings
from assistant.web.process import free_port
from connectors.base import ActionResult, Connector, OperationParams
from connectors.operations import CATALOG
from connectors.registry import ConnectorRegistry

ACTIONS = 3
"""Actions per run: one before the sign-off, the rest after it."""


class TimedConnector(Connector):
    """A Slack stand-in that only notes when it was called."""

    name = "slack"
    operations = CATALOG["slack"]

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    async def execute(
        self, operation: str, params: Mapping[str, Any], idempotency_key: str
    ) -> ActionResult:
        """Note the call and succeed."""
        self.clock.tick(idempotency_key.split(":")[0])
        return ActionResult(status="ok", detail="noted")

    async def perform(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Never reached: ``execute`` answers directly."""
        return ActionResult(status="ok", detail="noted")


def bench_draft() -> WorkflowDraft:
    """Return a workflow: one action, a sign-off, the remaining actions."""
    post = {"channel": "#ops", "text": "event {{n}}"}
    steps = [
        Step(
            id="a",
            title="first",
            kind="action",
            connector="slack",
            operation="post_message",
            params=post,
        )
    ]
    steps.append(Step(id="b", title="sign-off", kind="approval", approver_role="manager"))
    steps += [
        Step(
            id=f"c{i}",
            title="next",
            kind="action",
            connector="slack",
            operation="post_message",
            params=post,
        )
        for i in range(ACTIONS - 1)
    ]
    return WorkflowDraft(title="bench", goal="bench", steps=steps).sealed()


def bench_automation(draft: WorkflowDraft) -> Automation:
    """Return a live automation of ``draft``."""
    return Automation(
        id=f"bench-{draft.content_hash[:8]}",
        workflow_id=draft.id,
        version=1,
        content_hash=draft.content_hash,
        title="bench",
        owner="mia",
        created_at=datetime.now(UTC),
    )


def percentiles(values: list[float]) -> str:
    """Return 'p50 / p95' in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:6.1f} / {p95 * 1000:6.1f} ms"


async def until(clock: Clock, run_id: str, count: int, timeout: float = 30.0) -> None:
    """Wait until ``run_id`` has performed ``count`` actions."""
    deadline = time.monotonic() + timeout
    while len(clock.seen.get(run_id, [])) < count:
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark run did not progress")
        await asyncio.sleep(0.001)


async def measure_automation(
    client: Client, queue: str, runs: int, db: Engine | None = None
) -> dict[str, list[float]]:
    """Time runs of the automation workflow (writing its runs index and inbox to ``db``)."""
    clock = Clock()
    registry = ConnectorRegistry([TimedConnector(clock)])
    activities = RunActivities(registry, MemoryJournal(), db=db)
    engine = TemporalEngine(
        client,
        task_queue=queue,
        directory=MemoryDirectory({"mia": ["manager"]}),
        journal=MemoryJournal(),
    )
    draft = bench_draft()
    automation = bench_automation(draft)
    found: dict[str, list[float]] = {"first": [], "next": [], "total": []}
    async with build_worker(client, activities, task_queue=queue):
        for i in range(runs):
            began = time.perf_counter()
            run_id = (await engine.start(automation, draft, {"n": i})).id
            await until(clock, run_id, 1)
            await engine.wait(run_id)
            decided = time.perf_counter()
            await engine.decide(run_id, "s2", user="mia", accept=True)
            await until(clock, run_id, ACTIONS)
            done = (await engine.wait(run_id)).finished_at
            ends = time.perf_counter()
            found["first"].append(clock.seen[run_id][0] - began)
            found["next"].append(clock.seen[run_id][1] - decided)
            found["total"].append(ends - began)
            assert done is not None
    return found


async def measure_bare(client: Client, queue: str, runs: int) -> dict[str, list[float]]:
    """Time runs of the bare workflow."""
    found: dict[str, list[float]] = {"first": [], "next": [], "total": []}
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[BareWorkflow],
        activities=[noop],
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )
    async with worker:
        for _ in range(runs):
            run_id = f"bare-{uuid.uuid4().hex[:8]}"
            began = time.perf_counter()
            handle = await client.start_workflow(
                BareWorkflow.run, ACTIONS, id=run_id, task_queue=queue
            )
            await until(BARE_CLOCK, run_id, 1)
            while not await handle.query(BareWorkflow.waiting):
                await asyncio.sleep(0.001)
            decided = time.perf_counter()
            await handle.execute_update(BareWorkflow.approve)
            await handle.result()
            ends = time.perf_counter()
            found["first"].append(BARE_CLOCK.seen[run_id][0] - began)
            found["next"].append(BARE_CLOCK.seen[run_id][1] - decided)
            found["total"].append(ends - began)
    return found


async def measure_throughput(
    client: Client, settings: TemporalSettings, *, workers: int, runs: int, home: Path
) -> float:
    """Return runs/s of sign-off-free runs executed by ``workers`` ``flowdraft worker`` processes."""
    queue = f"bench-throughput-{workers}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "worker"],
            env={
                **os.environ,
                "FLOWDRAFT_HOME": str(home / f"worker-{workers}-{n}"),
                "FLOWDRAFT_TEMPORAL_ADDRESS": settings.target,
                "FLOWDRAFT_TEMPORAL_TASK_QUEUE": queue,
            },
            stderr=subprocess.DEVNULL,
        )
        for n in range(workers)
    ]
    try:
        engine = TemporalEngine(
            client, task_queue=queue, directory=MemoryDirectory({}), journal=MemoryJournal()
        )
        draft = bench_draft()
        draft = draft.model_copy(
            update={"steps": [s for s in draft.steps if s.kind == "action"]}
        ).sealed()
        automation = bench_automation(draft)
        await engine.wait((await engine.start(automation, draft, {"n": 0})).id, timeout=120)
        began = time.perf_counter()
        started = await asyncio.gather(
            *(engine.start(automation, draft, {"n": i}) for i in range(runs))
        )
        for run in started:
            await engine.wait(run.id, timeout=300)
        return runs / (time.perf_counter() - began)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


def resident_mib(pid: int) -> float:
    """Return a process's resident memory in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def benchmark(runs: int = 30, throughput_runs: int = 40) -> str:
    """Run both measurements on a fresh embedded server; return the report text."""
    settings = TemporalSettings(
        port=free_port(), http_port=free_port(), metrics_port=free_port(), ui_port=free_port()
    )
    with tempfile.TemporaryDirectory() as home:
        server = EmbeddedTemporal(settings, home=Path(home))
        await server.start()
        try:
            client = await connect(settings)
            await measure_bare(client, "bench-warm", 3)
            bare = await measure_bare(client, "bench-bare", runs)
            db = make_engine(f"sqlite:///{Path(home) / 'flowdraft.db'}")
            ours = await measure_automation(client, "bench-auto", runs, db)
            assert server.process is not None
            memory = resident_mib(server.process.pid)
            rates = {
                n: await measure_throughput(
                    client, settings, workers=n, runs=throughput_runs, home=Path(home)
                )
                for n in (1, 2)
            }
        finally:
            await server.stop()
    lines = [f"{runs} runs, {ACTIONS} actions and one sign-off each (p50 / p95)"]
    for key, label in (
        ("first", "event -> first action"),
        ("next", "approval -> next action"),
        ("total", "event -> finished"),
    ):
        ratio = statistics.median(ours[key]) / statistics.median(bare[key])
        lines.append(
            f"{label:26} automation {percentiles(ours[key])}   bare {percentiles(bare[key])}   x{ratio:.2f}"
        )
    lines.append(f"embedded dev server memory: {memory:.0f} MiB resident")
    for n, rate in rates.items():
        lines.append(f"throughput, {n} worker process(es): {rate:.1f} runs/s ({ACTIONS} actions)")
    return "\n".join(lines)


if __name__ == "__main__":
    print(asyncio.run(benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 30)))
