"""Graph turns on a thread of their own, so a server's event loop is free to answer.

A turn is CPU work plus synchronous SQLite calls; on the server's event loop it holds up
every other request (a Slack ack waits behind twenty drafts). ``TurnWorker`` runs turns on
one background thread with its own event loop and its own chat runner (its own checkpointer
connection, so the two loops never share a loop-bound lock). The server's loop awaits the
result; threads written here are read and resumed by the server's runner as usual, the same
way a thread drafted in one process is approved from another.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from assistant.services import Services, open_runner
from graphs.runner import ChatRunner

T = TypeVar("T")
Work = Callable[[ChatRunner], Awaitable[T]]
Opener = Callable[[], AbstractAsyncContextManager[ChatRunner]]


class TurnWorker:
    """One background thread and event loop with its own chat runner, started on first use."""

    def __init__(self, opener: Opener) -> None:
        self.opener = opener
        """Opens the worker's runner, on the worker's loop (e.g. ``open_runner(services)``)."""
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: Future[ChatRunner] = Future()
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    async def call(self, work: Work[T]) -> T:
        """Run ``work(runner)`` on the worker's loop and return its result here."""
        loop = self._start()
        runner = await asyncio.wrap_future(self._runner)
        done = asyncio.run_coroutine_threadsafe(_awaited(work(runner)), loop)
        return await asyncio.wrap_future(done)

    def close(self, timeout: float = 10) -> None:
        """Close the runner and stop the thread (waiting up to ``timeout`` seconds).

        The next ``call`` starts a fresh thread and runner, so a server that stops and
        starts again over the same services gets a working worker.
        """
        with self._lock:
            loop, stop, thread = self._loop, self._stop, self._thread
            self._loop = self._stop = self._thread = None
            self._runner = Future()
        if loop is None or stop is None or thread is None:
            return
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                ready = threading.Event()
                self._thread = threading.Thread(
                    target=self._serve, args=(ready,), name="flowdraft-turns", daemon=True
                )
                self._thread.start()
                ready.wait()
            assert self._loop is not None
            return self._loop

    def _serve(self, ready: threading.Event) -> None:
        asyncio.run(self._main(ready))

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        ready.set()
        try:
            async with self.opener() as runner:
                self._runner.set_result(runner)
                await self._stop.wait()
        except BaseException as exc:
            if not self._runner.done():
                self._runner.set_exception(exc)
            raise


async def _awaited(work: Awaitable[T]) -> T:
    return await work


_workers: dict[int, tuple[Services, TurnWorker]] = {}
_workers_lock = threading.Lock()


def worker_for(services: Services) -> TurnWorker:
    """Return the process's turn worker over ``services`` (one per services object)."""
    with _workers_lock:
        found = _workers.get(id(services))
        if found is None or found[0] is not services:
            found = (services, TurnWorker(lambda: open_runner(services)))
            _workers[id(services)] = found
        return found[1]
