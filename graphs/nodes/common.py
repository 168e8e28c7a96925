"""Helpers the chat graph's nodes share."""

from __future__ import annotations

import asyncio
from typing import Any

from assistant.db.journal import Journal
from assistant.schemas import WorkflowDraft
from graphs.state import ChatState
from knowledge.retrieval import Passage


def message(text: str, sources: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the ``message`` state value for a text shown to the user."""
    return {"text": text, "sources": sources or []}


def current_workflow(state: ChatState) -> WorkflowDraft:
    """Return the thread's current draft."""
    return WorkflowDraft.model_validate(state["workflow"])


def passages_of(state: ChatState) -> list[Passage]:
    """Return the retrieved passages from state."""
    return [Passage(**p) for p in state.get("passages") or []]


async def record(
    journal: Journal, name: str, *, actor: str, thread: str, content_hash: str = "", **data: Any
) -> None:
    """Append an audit event from an async node, off the event loop (it writes to the database).

    Nodes with no awaits of their own are plain functions instead: the graph runs those in
    a worker thread, so their service calls never block the loop.
    """
    await asyncio.to_thread(
        journal.event, name, actor=actor, thread=thread, content_hash=content_hash, **data
    )
