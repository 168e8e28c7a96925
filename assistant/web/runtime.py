"""The services and chat runner one server process shares between its HTTP and chat parts."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from assistant.services import Services, open_runner
from assistant.support.desk import SupportDesk
from assistant.support.worker import worker_for
from graphs.runner import ChatRunner


@dataclass
class WebRuntime:
    """What the running server holds: services, the checkpointed chat runner, the desk."""

    services: Services
    runner: ChatRunner
    desk: SupportDesk


_current: WebRuntime | None = None


async def start(services: Services, stack: AsyncExitStack) -> WebRuntime:
    """Open the runner (and its checkpointer) for the lifetime of ``stack``."""
    global _current
    runner = await stack.enter_async_context(open_runner(services))
    worker = worker_for(services)  # drafts tickets and Slack turns off the server's loop
    stack.callback(worker.close)
    _current = WebRuntime(services, runner, SupportDesk(services, runner, worker=worker))
    return _current


def current() -> WebRuntime:
    """Return the running server's runtime."""
    if _current is None:
        raise RuntimeError("the Flowdraft server has not started")
    return _current


def stop(started: WebRuntime | None = None) -> None:
    """Forget the runtime (its resources close with the server's exit stack).

    With ``started``, only if it is still the current one: another app started later in
    the same process (tests do this) keeps its own.
    """
    global _current
    if started is None or _current is started:
        _current = None
