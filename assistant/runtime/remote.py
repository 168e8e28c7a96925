"""A run engine for processes that run no worker: the CLI, and servers with runs turned off.

It reaches the Temporal service a running ``flowdraft serve`` started (the embedded dev
server on its pinned loopback port) or the one ``FLOWDRAFT_TEMPORAL_ADDRESS`` names, and
connects on first use, inside the caller's event loop.
"""

from __future__ import annotations

import socket
from typing import Any

from assistant.db.journal import Journal
from assistant.db.users import Directory
from assistant.policy.rules import Policy
from assistant.runtime.engine import connect
from assistant.runtime.models import Automation, Outcome, Run
from assistant.runtime.temporal import TemporalEngine
from assistant.schemas import WorkflowDraft
from assistant.settings import TemporalSettings

PROBE_TIMEOUT = 1.0
"""Seconds to wait for the Temporal frontend to accept a connection."""


def reachable(target: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """Tell whether something listens at ``host:port``."""
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout):
            return True
    except (OSError, ValueError):
        return False


class RemoteEngine:
    """``TemporalEngine`` over a client made on first use; workers run elsewhere."""

    indexes_runs = True
    """Runs on Temporal write their own snapshots to the runs index (see ``indexing``)."""

    def __init__(
        self,
        temporal: TemporalSettings,
        *,
        directory: Directory,
        journal: Journal,
        policy: Policy | None = None,
    ) -> None:
        self.temporal = temporal
        self.directory = directory
        self.journal = journal
        self.policy = policy
        self._engine: TemporalEngine | None = None

    async def engine(self) -> TemporalEngine:
        """Return the engine, connecting the first time."""
        if self._engine is None:
            client = await connect(self.temporal)
            self._engine = TemporalEngine(
                client,
                task_queue=self.temporal.task_queue,
                directory=self.directory,
                journal=self.journal,
                policy=self.policy,
            )
        return self._engine

    async def start(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run (see ``TemporalEngine.start``)."""
        return await (await self.engine()).start(automation, draft, event)

    async def start_new(
        self, automation: Automation, draft: WorkflowDraft, event: dict[str, Any]
    ) -> Run:
        """Start a run; raise ``AlreadyStarted`` for a repeated event id (see ``TemporalEngine``)."""
        return await (await self.engine()).start_new(automation, draft, event)

    async def run(self, run_id: str) -> Run:
        """Return the run's current state; ``KeyError`` for an unknown id."""
        return await (await self.engine()).run(run_id)

    async def decide(
        self, run_id: str, step_id: str, *, user: str, accept: bool, reason: str | None = None
    ) -> Outcome:
        """Answer a waiting step as ``user``; a refusal names who can decide."""
        engine = await self.engine()
        return await engine.decide(run_id, step_id, user=user, accept=accept, reason=reason)

    async def wait(self, run_id: str, timeout: float = 30.0) -> Run:
        """Return the run once it is finished or waiting for a person."""
        return await (await self.engine()).wait(run_id, timeout)

    async def retry(self, run_id: str, automation: Automation, draft: WorkflowDraft) -> Run:
        """Redo a failed run from its failed step (see ``TemporalEngine.retry``)."""
        return await (await self.engine()).retry(run_id, automation, draft)
