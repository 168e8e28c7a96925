"""What LangGraph Server's process shares: its services, built once, and who updates a thread.

A module of its own, imported by name: the server loads ``graphs/server.py`` and
``graphs/auth.py`` from their paths, as modules of their own, so anything both use must
live in a module both import.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING

from graphs.context import Context

if TYPE_CHECKING:
    from assistant.services import Services

STATE_UPDATER: ContextVar[str | None] = ContextVar("flowdraft_state_updater", default=None)
"""Who LangGraph Server authenticated for a thread update (set by ``graphs.auth``)."""

BUILDING = threading.Lock()


def process_services() -> Services:
    """Build this process's services from ``Settings`` (``FLOWDRAFT_*``), once.

    Called from worker threads (nodes, custom auth): the lock keeps two first calls from
    building twice.
    """
    with BUILDING:
        return built_services()


@cache
def built_services() -> Services:
    """Build the services (``process_services`` holds the lock)."""
    from assistant.services import build_services

    return build_services()


@cache
def process_context() -> Context:
    """Return the graph context of this process's services."""
    return process_services().context()
