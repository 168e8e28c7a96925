"""``flowdraft worker`` processes and the in-process engine ``serve`` uses."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.runtime.activities import RunActivities
from assistant.runtime.engine import EmbeddedTemporal
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.worker import running_engine
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog
from tests.runtime.temporal.conftest import (
    PEOPLE,
    REPO,
    Runtime,
    automation_for,
    invoice,
    invoice_draft,
    temporal_settings,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


async def test_flowdraft_worker_runs_automations_from_another_process(
    runtime: Runtime, tmp_path: Path
) -> None:
    queue = f"cli-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "FLOWDRAFT_HOME": str(tmp_path / "worker-home"),
        "FLOWDRAFT_TEMPORAL_ADDRESS": runtime.settings.target,
        "FLOWDRAFT_TEMPORAL_TASK_QUEUE": queue,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "worker"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None and queue in worker.stderr.readline()
        engine = TemporalEngine(
            runtime.engine.client,
            task_queue=queue,
            directory=MemoryDirectory(PEOPLE),
            journal=MemoryJournal(),
        )
        draft = invoice_draft()
        run = await engine.start(automation_for(draft), draft, invoice(5000))
        run = await engine.wait(run.id, timeout=60)
        assert run.status == "completed"
        assert all(s.output.get("sandbox") for s in run.steps if s.kind == "action")
    finally:
        worker.terminate()
        worker.wait(10)


async def test_the_embedded_engine_starts_runs_and_stops(tmp_path: Path) -> None:
    settings = temporal_settings()
    actions = ActionLog()
    async with running_engine(
        settings,
        home=tmp_path,
        activities=RunActivities(ConnectorRegistry.sandboxed(actions), MemoryJournal()),
        directory=MemoryDirectory(PEOPLE),
        journal=MemoryJournal(),
    ) as engine:
        draft = invoice_draft()
        run = await engine.wait((await engine.start(automation_for(draft), draft, invoice(5))).id)
        assert run.status == "completed" and len(actions.actions) == 2
    assert (tmp_path / "temporal.db").exists()


async def test_operators_get_the_engines_web_ui_on_loopback(tmp_path: Path) -> None:
    settings = temporal_settings().model_copy(update={"ui": True})
    server = EmbeddedTemporal(settings, home=tmp_path)
    await server.start()
    try:
        response: httpx.Response | None = None
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    response = await client.get(server.ui_url)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        assert response is not None and response.status_code == 200
    finally:
        await server.stop()
    assert server.process is not None and server.process.returncode is not None
