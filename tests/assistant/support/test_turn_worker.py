"""Graph turns run on the turn worker's own thread and loop, never on the caller's loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from assistant.db.tickets import store_ticket
from assistant.schemas import Ticket
from assistant.services import Services, open_runner
from assistant.settings import ConnectorSettings
from assistant.support.desk import SupportDesk
from assistant.support.worker import TurnWorker, worker_for
from graphs.runner import ChatRunner
from tests.support.live import services_with


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


async def test_a_closed_worker_starts_afresh_on_its_next_call() -> None:
    opened: list[int] = []

    @asynccontextmanager
    async def counting_runner() -> AsyncIterator[ChatRunner]:
        opened.append(threading.get_ident())
        yield cast(Any, None)

    async def thread_name(_: ChatRunner) -> str:
        return threading.current_thread().name

    worker = TurnWorker(counting_runner)
    assert await worker.call(thread_name) == "flowdraft-turns"
    worker.close()  # as a server does when it stops
    assert await worker.call(thread_name) == "flowdraft-turns"
    worker.close()
    assert len(opened) == 2  # a fresh runner each time


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
    async with open_runner(services) as runner:
        state = await runner.state("worker-thread-1")
    assert state.get("workflow")


async def test_a_desk_with_a_worker_drafts_there_and_the_server_runner_reviews(
    services: Services, tmp_path: Path
) -> None:
    built = services_with(services, tmp_path / "home", ConnectorSettings())
    ticket = Ticket.model_validate(
        {
            "id": "EXT-91",
            "subject": "Where is my parcel?",
            "body": "My order shipped four days ago. How do I track it?",
            "customer": {"email": "kim@customer.example", "name": "Kim Ode"},
        }
    )
    row, _ = store_ticket(built.engine, ticket, source="api")
    worker = TurnWorker(lambda: open_runner(built))
    try:
        async with open_runner(built) as runner:
            desk = SupportDesk(built, runner, worker=worker)
            drafted = await desk.draft(row.id or 0)
            assert drafted.status == "waiting" and drafted.drafted_body
            # Drafted on the worker's runner; the server's runner holds the same review.
            assert await runner.pending_review(drafted.thread) is not None
    finally:
        worker.close()
