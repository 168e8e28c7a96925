"""Graph turns run on the turn worker's own thread and loop, never on the caller's loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from assistant.services import Services
from assistant.support.worker import TurnWorker, worker_for
from graphs.runner import ChatRunner


async def test_caller_loop_keeps_running_while_a_turn_blocks() -> None:
    @asynccontextmanager
    async def no_runner() -> AsyncIterator[ChatRunner]:
        yield cast(Any, None)  # this turn does not use its runner

    worker = TurnWorker(no_runner)
    released = threading.Event()

    async def blocking_turn(_: ChatRunner) -> str:
        # Blocks its loop until the caller's loop sets the event: only possible if the
        # caller's loop is still free to run while this turn holds its own loop.
        return threading.current_thread().name if released.wait(10) else "caller loop blocked"

    turn = asyncio.ensure_future(worker.call(blocking_turn))
    await asyncio.sleep(0)
    released.set()
    assert await turn == "flowdraft-turns"
    worker.close()


async def test_a_draft_made_on_the_worker_is_seen_by_the_callers_services(
    services: Services,
) -> None:
    worker = worker_for(services)
    assert worker_for(services) is worker

    async def draft(runner: ChatRunner) -> list[str]:
        return [
            event["type"]
            async for event in runner.send_text(
                "worker-thread-1", "Route incoming support tickets to billing or tech", "ana"
            )
        ]

    kinds = await worker.call(draft)
    assert "draft" in kinds
    # The checkpoint is stored, so another runner over the same home reads it.
    from assistant.services import open_runner

    async with open_runner(services) as runner:
        state = await runner.state("worker-thread-1")
    assert state.get("workflow")
