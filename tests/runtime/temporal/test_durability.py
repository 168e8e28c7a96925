"""Runs survive a dev server restart and a worker killed mid-action (exactly once)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from assistant.db.users import MemoryDirectory
from assistant.runtime.plan import RunOptions
from assistant.runtime.temporal import TemporalEngine
from assistant.schemas import Step, WorkflowDraft
from tests.runtime.temporal.conftest import (
    PEOPLE,
    REPO,
    Runtime,
    automation_for,
    invoice,
    invoice_draft,
)
from tests.support.servers import WebhookReceiver, serving

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
SECRET = "s3cret-for-tests"


async def test_a_waiting_run_resumes_after_the_server_is_killed(runtime: Runtime) -> None:
    draft = invoice_draft()
    run = await runtime.engine.start(automation_for(draft), draft, invoice(50000))
    run = await runtime.engine.wait(run.id)
    approval = next(s for s in run.steps if s.status == "waiting")
    before = runtime.server.restarts

    assert runtime.server.process is not None
    runtime.server.process.kill()
    deadline = time.monotonic() + 30
    while runtime.server.restarts == before:
        assert time.monotonic() < deadline, "the dev server was not restarted"
        await asyncio.sleep(0.05)

    outcome = await runtime.engine.decide(run.id, approval.step_id, user="carla", accept=True)
    assert outcome.ok, outcome.message
    run = await runtime.engine.wait(run.id)
    assert run.status == "completed"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """Run a webhook receiver that dedupes on Idempotency-Key."""
    server = WebhookReceiver(SECRET)
    with serving(server):
        yield server


def start_worker(address: str, queue: str) -> subprocess.Popen[str]:
    """Start a worker process and wait until it is connected."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.temporal.worker_process", address, queue, SECRET],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


@pytest.mark.slow
async def test_a_killed_worker_hands_the_action_over_and_it_happens_once(
    runtime: Runtime, receiver: WebhookReceiver
) -> None:
    queue = f"kill-{uuid.uuid4().hex[:6]}"
    engine = TemporalEngine(
        runtime.engine.client,
        task_queue=queue,
        directory=MemoryDirectory(PEOPLE),
        journal=runtime.journal,
        options=RunOptions(heartbeat_timeout=2.0),
    )
    draft = WorkflowDraft(
        title="Forward invoices",
        goal="Forward each invoice to the ERP",
        steps=[
            Step(
                id="s1",
                title="Log the invoice",
                kind="action",
                connector="webhook",
                operation="post_json",
                params={"url": f"{receiver.url}/invoices", "payload": {"n": "{{invoice.number}}"}},
            ),
            Step(
                id="s2",
                title="Tell finance",
                kind="action",
                connector="slack",
                operation="post_message",
                params={"channel": "#finance", "text": "Logged {{invoice.number}}"},
            ),
        ],
    ).sealed()
    receiver.behaviour.delay = 3.0
    first = start_worker(runtime.settings.target, queue)
    second: subprocess.Popen[str] | None = None
    try:
        run = await engine.start(automation_for(draft), draft, invoice(100))
        deadline = time.monotonic() + 20
        while not receiver.requests:
            assert time.monotonic() < deadline, "the action never reached the receiver"
            await asyncio.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        receiver.behaviour.delay = 0.0
        second = start_worker(runtime.settings.target, queue)

        run = await engine.wait(run.id, timeout=30)
        assert run.status == "completed", run
        assert len(receiver.requests) >= 2
        assert list(receiver.delivered) == [receiver.requests[0]["key"]]
        assert run.steps[0].attempts >= 2
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
