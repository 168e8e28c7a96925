"""Workers that execute runs: in-process under ``flowdraft serve``, or ``flowdraft worker``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from assistant.runtime.activities import RunActivities
from assistant.runtime.workflows import RunAutomation

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
