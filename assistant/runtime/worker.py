"""Workers that execute runs: in-process under ``flowdraft serve``, or ``flowdraft worker``.

``running_engine`` is what ``serve`` uses (through ``serving_runs``): the embedded dev server
(unless an address is configured), a client, an in-process worker and the ``TemporalEngine``
over them; ``FLOWDRAFT_TEMPORAL_ENABLED=false`` leaves a server without any of them.
``run_worker`` is ``flowdraft worker``: a worker only, for scale-out on any machine.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.client import Client
from temporalio.worker import Worker

from assistant.db.journal import Journal
from assistant.db.users import Directory
from assistant.policy.rules import Policy
from assistant.runtime.activities import RunActivities
from assistant.runtime.engine import EmbeddedTemporal, connect
from assistant.runtime.plan import RunOptions
from assistant.runtime.schedule_sync import sync_at_start
from assistant.runtime.temporal import TemporalEngine
from assistant.runtime.workflows import RunAutomation
from assistant.settings import ConnectorSettings, Settings, TemporalSettings

if TYPE_CHECKING:
    from assistant.services import Services

log = logging.getLogger(__name__)

STICKY_TIMEOUT = timedelta(seconds=1)
"""How long a run's next task waits for the worker that ran its last one before any worker
may take it: Temporal's default (10 s) would stall the runs of a dead worker that long."""


def build_worker(client: Client, activities: RunActivities, *, task_queue: str) -> Worker:
    """Return a worker for ``task_queue`` running the run workflow and its activities.

    Example:
        >>> # worker = build_worker(client, RunActivities(registry, journal), task_queue="q")
        >>> # async with worker: ...   # or: await worker.run()
    """
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[RunAutomation],
        activities=activities.all(),
        activity_executor=ThreadPoolExecutor(max_workers=4),
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )


@asynccontextmanager
async def running_engine(
    temporal: TemporalSettings,
    *,
    home: Path,
    activities: RunActivities,
    directory: Directory,
    journal: Journal,
    options: RunOptions | None = None,
    policy: Policy | None = None,
) -> AsyncIterator[TemporalEngine]:
    """Yield an engine with an in-process worker; start the embedded server if configured.

    Example:
        >>> # async with running_engine(TemporalSettings(), home=settings.home, ...) as engine:
        >>> #     run = await engine.start(automation, draft, event)
    """
    server = EmbeddedTemporal(temporal, home=home) if temporal.embedded else None
    if server is not None:
        await server.start()
    try:
        client = await connect(temporal)
        async with build_worker(client, activities, task_queue=temporal.task_queue):
            yield TemporalEngine(
                client,
                task_queue=temporal.task_queue,
                directory=directory,
                journal=journal,
                options=options,
                policy=policy,
            )
    finally:
        if server is not None:
            await server.stop()


def production_activities(settings: Settings) -> RunActivities:
    """Build the activities over the real connectors, policy and audit journal."""
    from assistant.db.engine import make_engine
    from assistant.observability.journal import ObservedJournal
    from assistant.policy import load_policy
    from connectors.registry import build_registry

    settings.ensure_home()
    engine = make_engine(settings.database_url)
    policy = load_policy(settings.policy)
    registry = build_registry(
        settings,
        ConnectorSettings(),
        engine=engine,
        host_allowed=policy.destinations.host_allowed,
    )
    return RunActivities(registry, ObservedJournal(engine), policy, db=engine)


@asynccontextmanager
async def serving_runs(
    services: Services, temporal: TemporalSettings | None = None
) -> AsyncIterator[TemporalEngine | None]:
    """Yield the engine ``flowdraft serve`` runs automations on, or None when disabled.

    The worker's activities use the server's own connectors, policy, journal and database;
    every schedule automation's Temporal Schedule is brought in step before it is yielded.
    """
    temporal = temporal or TemporalSettings()
    if not temporal.enabled:
        yield None
        return
    activities = RunActivities(
        services.registry, services.journal, services.policy.policy, db=services.engine
    )
    async with running_engine(
        temporal,
        home=services.settings.home,
        activities=activities,
        directory=services.directory,
        journal=services.journal,
        policy=services.policy.policy,
    ) as engine:
        where = (
            f"the embedded engine at {temporal.target}" if temporal.embedded else temporal.target
        )
        ui = (
            f", web UI at http://127.0.0.1:{temporal.ui_port}"
            if temporal.embedded and temporal.ui
            else ""
        )
        log.info("automations run on %s (task queue %s%s)", where, temporal.task_queue, ui)
        # Schedules changed while no engine ran (activations, pauses) are made good now.
        await sync_at_start(services.engine, engine)
        yield engine


async def run_worker(settings: Settings, temporal: TemporalSettings) -> None:
    """Run a worker until cancelled (``flowdraft worker``); serve its metrics on their port."""
    from assistant.observability.http import serve_worker_metrics
    from assistant.observability.logs import use_log_format
    from assistant.observability.tracing import setup_tracing

    setup_tracing("flowdraft-worker")
    use_log_format()
    where = serve_worker_metrics()
    if where:
        log.info("worker metrics at %s", where)
    client = await connect(temporal)
    worker = build_worker(client, production_activities(settings), task_queue=temporal.task_queue)
    await worker.run()
