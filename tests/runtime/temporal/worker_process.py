"""A worker in its own process, calling webhooks for real: killed and replaced by tests.

Usage: ``python -m tests.runtime.temporal.worker_process ADDRESS TASK_QUEUE WEBHOOK_SECRET``
"""

from __future__ import annotations

import asyncio
import sys

from assistant.db.journal import MemoryJournal
from assistant.runtime.activities import RunActivities
from assistant.runtime.engine import connect
from assistant.runtime.worker import build_worker
from assistant.settings import TemporalSettings
from connectors.registry import ConnectorRegistry
from connectors.sandbox import SandboxConnector
from connectors.webhook import WebhookConnector


async def main(address: str, task_queue: str, secret: str) -> None:
    """Run a worker until the process is killed."""
    client = await connect(TemporalSettings(address=address, task_queue=task_queue))
    registry = ConnectorRegistry(
        [WebhookConnector(secret=secret, host_allowed=lambda host: True), SandboxConnector("slack")]
    )
    worker = build_worker(client, RunActivities(registry, MemoryJournal()), task_queue=task_queue)
    print("ready", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
