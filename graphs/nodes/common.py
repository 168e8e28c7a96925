"""Helpers the chat graph's nodes share."""

from __future__ import annotations

from typing import Any

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
