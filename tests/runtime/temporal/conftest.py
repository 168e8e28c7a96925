"""A real Temporal dev server per test module, an in-process worker and the engine on it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest_asyncio

from assistant.brain.offline.drafting import draft_from_playbook
from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.policy import PolicyChecker, load_policy
from assistant.runtime.activities import RunActivities
from assistant.runtime.engine import EmbeddedTemporal, connect
from assistant.runtime.models import Automation, AutomationTrigger
from assistant.runtime.plan import RunOptions
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.worker import build_worker
from assistant.schemas import Slots, WorkflowDraft
from assistant.settings import TemporalSettings
from assistant.web.process import free_port
from connectors.base import ActionResult
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog, SandboxConnector
from knowledge.library import cached_library

REPO = Path(__file__).resolve().parents[3]
PEOPLE = {
    "ana": ["ap_clerk"],
    "carla": ["cfo"],
    "sam": ["cfo"],
    "dan": ["ceo"],
    "mia": ["manager"],
}
"""Who works here: sam is a CFO who also submits invoices."""


def temporal_settings(task_queue: str = "flowdraft-test") -> TemporalSettings:
    """Return settings for a dev server on free loopback ports."""
    return TemporalSettings(
        port=free_port(),
        http_port=free_port(),
        metrics_port=free_port(),
        ui_port=free_port(),
        task_queue=task_queue,
        ui=False,
    )


def invoice_draft() -> WorkflowDraft:
    """Draft the invoice-triage playbook the way the offline brain does, checked by policy."""
    library = cached_library(str(REPO / "knowledge" / "library"))
    playbook = next(doc for doc in library if doc.slug == "invoice-triage")
    goal = "Route vendor invoices above $10k to the CFO for sign-off and post in #finance"
    draft = draft_from_playbook(goal, playbook, Slots(), [], load_policy())
    return PolicyChecker().check(draft)


def automation_for(
    draft: WorkflowDraft, *, status: str = "active", fields: tuple[str, ...] = ()
) -> Automation:
    """Return a live automation of ``draft`` with a fresh id."""
    return Automation(
        id=f"auto_{uuid.uuid4().hex[:8]}",
        workflow_id=draft.id,
        version=draft.version,
        content_hash=draft.content_hash,
        title=draft.title,
        status=status,  # type: ignore[arg-type]
        trigger=AutomationTrigger(kind="webhook", fields=list(fields)),
        owner="mia",
        created_at=datetime.now(UTC),
    )


def invoice(amount: float, **extra: Any) -> dict[str, Any]:
    """Return an invoice event submitted by sam."""
    return {
        "id": uuid.uuid4().hex[:10],
        "invoice": {
            "vendor": "Parcel Path",
            "number": "INV-2291",
            "amount": amount,
            "due_date": "2026-12-15",
            "po_number": "PO-7781",
            "submitted_by": "sam",
            **extra,
        },
    }


class CrashingConnector(SandboxConnector):
    """The sandbox connector, crashing on every call while ``down``: an outage past retries."""

    down = True

    async def execute(
        self, operation: str, params: Mapping[str, Any], idempotency_key: str
    ) -> ActionResult:
        """Crash while down; record otherwise."""
        if CrashingConnector.down:
            raise ConnectionError("the note store is down")
        return await super().execute(operation, params, idempotency_key)


def registry_with_crashes(actions: ActionLog) -> ConnectorRegistry:
    """Return sandboxed connectors whose ``sandbox`` connector always crashes."""
    kept = [c for c in ConnectorRegistry.sandboxed(actions) if c.name != "sandbox"]
    return ConnectorRegistry([*kept, CrashingConnector("sandbox", log=actions)])


@dataclass
class Runtime:
    """The pieces a test drives and inspects."""

    server: EmbeddedTemporal
    engine: TemporalEngine
    actions: ActionLog
    journal: MemoryJournal
    settings: TemporalSettings


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runtime(tmp_path_factory: Any) -> AsyncIterator[Runtime]:
    """Start a dev server and a worker for this module's tests."""
    settings = temporal_settings()
    server = EmbeddedTemporal(settings, home=tmp_path_factory.mktemp("temporal"))
    await server.start()
    client = await connect(settings)
    actions, journal = ActionLog(), MemoryJournal()
    activities = RunActivities(registry_with_crashes(actions), journal)
    engine = TemporalEngine(
        client,
        task_queue=settings.task_queue,
        directory=MemoryDirectory(PEOPLE),
        journal=journal,
        options=RunOptions(heartbeat_timeout=2.0),
    )
    try:
        async with build_worker(client, activities, task_queue=settings.task_queue):
            yield Runtime(server, engine, actions, journal, settings)
    finally:
        await server.stop()
