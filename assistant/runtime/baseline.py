"""The benchmark's baseline: a bare Temporal workflow with no-op activities around one wait.

Kept apart from the benchmark so the workflow sandbox imports nothing but ``temporalio``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow


@dataclass
class Clock:
    """When each run's actions happened (perf_counter), keyed by run id."""

    seen: dict[str, list[float]] = field(default_factory=dict)

    def tick(self, run_id: str) -> None:
        """Note that an action of ``run_id`` happened now."""
        self.seen.setdefault(run_id, []).append(time.perf_counter())


BARE_CLOCK = Clock()


@activity.defn(name="bench_noop")
async def noop(run_id: str) -> None:
    """Do nothing but note the time."""
    BARE_CLOCK.tick(run_id)


@workflow.defn(name="bench_bare")
class BareWorkflow:
    """The baseline: one activity, wait for an update, the remaining activities."""

    def __init__(self) -> None:
        self.approved = False
        self.blocked = False

    @workflow.run
    async def run(self, actions: int) -> None:
        """Run the no-op activities around one wait."""
        run_id = workflow.info().workflow_id
        timeout = timedelta(seconds=30)
        await workflow.execute_activity(noop, run_id, start_to_close_timeout=timeout)
        self.blocked = True
        await workflow.wait_condition(lambda: self.approved)
        for _ in range(actions - 1):
            await workflow.execute_activity(noop, run_id, start_to_close_timeout=timeout)

    @workflow.query
    def waiting(self) -> bool:
        """Tell whether the run waits for its update."""
        return self.blocked and not self.approved

    @workflow.update
    def approve(self) -> None:
        """Let the run go on."""
        self.approved = True
