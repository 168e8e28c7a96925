"""One trace per run, continued across Temporal (client -> worker) and onto webhooks.

A real Temporal dev server and worker on loopback; spans are recorded in memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.observability.tracing import record_spans_to, stop_recording, tracer
from assistant.runtime.activities import RunActivities
from assistant.runtime.engine import EmbeddedTemporal, connect
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.worker import build_worker
from assistant.schemas import Step, WorkflowDraft
from assistant.web.process import free_port
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog
from connectors.webhook import WebhookConnector
from tests.observability.conftest import named, samples, value
from tests.runtime.temporal.conftest import PEOPLE, REPO, automation_for, temporal_settings
from tests.support.servers import WebhookReceiver, _WebhookHandler, serving

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
SECRET = "hook-secret"


class TracedHandler(_WebhookHandler):
    """The webhook receiver's handler, also keeping each request's ``traceparent``."""

    def do_POST(self) -> None:
        self.server.traceparents.append(self.headers.get("traceparent"))  # type: ignore[attr-defined]
        super().do_POST()


@dataclass
class Bench:
    engine: TemporalEngine
    receiver: WebhookReceiver
    target: str
    spans: InMemorySpanExporter


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bench(tmp_path_factory: Any) -> AsyncIterator[Bench]:
    """Start tracing, then a dev server, a traced client and a worker calling a receiver."""
    exporter = InMemorySpanExporter()
    record_spans_to(exporter)  # before connecting: the client takes its interceptors then
    settings = temporal_settings("flowdraft-traces")
    server = EmbeddedTemporal(settings, home=tmp_path_factory.mktemp("temporal"))
    await server.start()
    receiver = WebhookReceiver(SECRET)
    receiver.RequestHandlerClass = TracedHandler
    receiver.traceparents = []  # type: ignore[attr-defined]
    with serving(receiver):
        client = await connect(settings)
        sandboxed = [c for c in ConnectorRegistry.sandboxed(ActionLog()) if c.name != "webhook"]
        webhook = WebhookConnector(secret=SECRET, host_allowed=lambda _: True)
        activities = RunActivities(ConnectorRegistry([*sandboxed, webhook]), MemoryJournal())
        engine = TemporalEngine(
            client,
            task_queue=settings.task_queue,
            directory=MemoryDirectory(PEOPLE),
            journal=MemoryJournal(),
        )
        try:
            async with build_worker(client, activities, task_queue=settings.task_queue):
                yield Bench(engine, receiver, settings.target, exporter)
        finally:
            await server.stop()
            stop_recording()


def notify_draft(url: str) -> WorkflowDraft:
    """Return a draft that checks the amount, then posts the invoice to ``url``."""
    return WorkflowDraft(
        title="Tell the ledger",
        goal="Post every large invoice to the ledger service",
        steps=[
            Step(id="s1", title="Large?", kind="condition", condition="invoice.amount > 100"),
            Step(
                id="s2",
                title="Post to the ledger",
                kind="action",
                connector="webhook",
                operation="post_json",
                params={"url": url, "payload": {"amount": "{{invoice.amount}}"}},
            ),
        ],
    ).sealed()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_run_is_one_trace_from_the_request_to_the_webhook(bench: Bench) -> None:
    exporter = bench.spans
    exporter.clear()
    draft = notify_draft(f"{bench.receiver.url}/ledger")
    automation = automation_for(draft)
    with tracer().start_as_current_span("POST /hooks") as request:
        run = await bench.engine.start(automation, draft, {"invoice": {"amount": 250}})
    await bench.engine.client.get_workflow_handle(run.id).result()
    trace_id = request.get_span_context().trace_id

    finished = exporter.get_finished_spans()
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    names = {s.name for s in in_trace}
    # The client's start, the workflow on the worker and its activities: one trace.
    assert {"StartWorkflow:run_automation", "RunWorkflow:run_automation"} <= names
    assert {"RunActivity:plan_run", "RunActivity:perform_action"} <= names
    [call] = named(in_trace, "step s2 webhook.post_json")
    assert call.attributes["flowdraft.outcome"] == "ok"
    assert call.attributes["flowdraft.run_id"] == run.id
    assert call.attributes["flowdraft.idempotency_key"].startswith(run.id)
    [plan] = named(in_trace, "RunActivity:plan_run")
    assert plan.attributes["flowdraft.automation_id"] == automation.id
    assert plan.attributes["flowdraft.content_hash"] == draft.content_hash
    assert plan.attributes["flowdraft.version"] == draft.version

    # The finished run, with one child span per step, timed from the run's record.
    [whole] = named(in_trace, f"run {run.id}")
    assert whole.attributes["flowdraft.status"] == "completed"
    steps = [s for s in in_trace if s.parent and s.parent.span_id == whole.context.span_id]
    assert sorted(s.name for s in steps) == ["action s2", "condition s1"]

    # The receiver's trace continues the run's.
    [traceparent] = bench.receiver.traceparents  # type: ignore[attr-defined]
    assert traceparent is not None
    assert traceparent.split("-")[1] == trace.format_trace_id(trace_id)


async def test_a_run_moves_its_counters(bench: Bench) -> None:
    draft = notify_draft(f"{bench.receiver.url}/ledger")
    automation = automation_for(draft)
    fields = {"automation": automation.id}
    before = (
        sample("flowdraft_connector_call_seconds_count", connector="webhook", outcome="ok"),
        sample("flowdraft_step_seconds_count", kind="condition", status="ok"),
    )
    run = await bench.engine.start(automation, draft, {"invoice": {"amount": 250}})
    await bench.engine.client.get_workflow_handle(run.id).result()
    small = await bench.engine.start(automation, draft, {"id": "e2", "invoice": {"amount": 5}})
    await bench.engine.client.get_workflow_handle(small.id).result()

    assert sample("flowdraft_runs_started_total", **fields) == 2
    assert sample("flowdraft_runs_finished_total", **fields, status="completed") == 2
    assert sample("flowdraft_runs_finished_total", **fields, status="failed") == 0
    after = (
        sample("flowdraft_connector_call_seconds_count", connector="webhook", outcome="ok"),
        sample("flowdraft_step_seconds_count", kind="condition", status="ok"),
    )
    assert (after[0] - before[0], after[1] - before[1]) == (1, 2)


async def test_a_failed_call_counts_under_its_connector(bench: Bench, tmp_path: Path) -> None:
    draft = notify_draft("http://127.0.0.1:9/nowhere")  # a port nothing listens on
    bench.receiver.behaviour.statuses = []
    before = sample("flowdraft_connector_errors_total", connector="webhook", error="failed")
    automation = automation_for(draft)
    run = await bench.engine.start(automation, draft, {"invoice": {"amount": 250}})
    await bench.engine.client.get_workflow_handle(run.id).result()
    assert sample("flowdraft_runs_finished_total", automation=automation.id, status="failed") == 1
    assert (
        sample("flowdraft_connector_errors_total", connector="webhook", error="failed")
        == before + 1
    )


async def test_flowdraft_worker_serves_its_own_metrics(bench: Bench, tmp_path: Path) -> None:
    queue, port = f"metrics-{uuid.uuid4().hex[:6]}", free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "FLOWDRAFT_HOME": str(tmp_path / "worker-home"),
        "FLOWDRAFT_TEMPORAL_ADDRESS": bench.target,
        "FLOWDRAFT_TEMPORAL_TASK_QUEUE": queue,
        "FLOWDRAFT_WORKER_METRICS_PORT": str(port),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "worker"], cwd=REPO, env=env, stderr=subprocess.PIPE
    )
    try:
        engine = TemporalEngine(
            bench.engine.client,
            task_queue=queue,
            directory=MemoryDirectory(PEOPLE),
            journal=MemoryJournal(),
        )
        draft = notify_draft(f"{bench.receiver.url}/ledger")
        automation = automation_for(draft)
        run = await engine.start(automation, draft, {"invoice": {"amount": 5}})
        await engine.client.get_workflow_handle(run.id).result()
        scraped = samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
    finally:
        worker.terminate()
        worker.wait(10)
    labels = {"automation": automation.id}
    assert value(scraped, "flowdraft_runs_started_total", **labels) == 1
    assert value(scraped, "flowdraft_runs_finished_total", **labels, status="completed") == 1
    # This process ran none of the worker's runs.
    assert sample("flowdraft_runs_started_total", **labels) == 0
