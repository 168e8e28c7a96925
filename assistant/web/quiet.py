"""Chainlit's SQLAlchemy data layer as the chat uses it: elements are not stored, quietly.

No blob storage is configured, so the stock layer logs a warning for every element it is
handed (a diagram, source chips, a form: dozens per session) and stores nothing. Threads
get their elements back from the graph state instead (``resume`` in ``chat.py``).

Chainlit also names a new thread after its first interaction, and for a button that is the
button's internal name ("open_queue"); such names become words a person reads.
"""

from __future__ import annotations

from typing import Any

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer

from assistant.settings import Settings
from assistant.web.history import async_url, history_url

THREAD_TITLES = {
    "open_queue": "Support queue",
    "reply_accept": "Support queue",
    "reply_edit": "Support queue",
    "reply_reject": "Support queue",
    "reply_retry": "Support queue",
    "approve": "Workflow review",
    "edit": "Workflow review",
    "reject": "Workflow review",
    "custom_element": "Workflow review",
}


class QuietDataLayer(SQLAlchemyDataLayer):
    """Store threads and messages; skip elements without a warning; name threads readably."""

    async def create_element(self, element: Any) -> None:
        """Store nothing: elements are rebuilt from the graph state when a thread reopens."""

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[Any, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Update a thread, naming it in words when Chainlit names it after a button."""
        named = THREAD_TITLES.get(name or "", name)
        await super().update_thread(thread_id, named, user_id, metadata, tags)


def build_quiet_data_layer(settings: Settings) -> QuietDataLayer:
    """Return the data layer over the history database ``settings`` point at."""
    return QuietDataLayer(conninfo=async_url(history_url(settings)))
