"""The chat graph as LangGraph Server serves it (``langgraph.json`` points at ``graph``).

The server passes a run's context as JSON, so the served graph's context schema holds
settings only (``RunSettings``). Services (brain, retriever, connectors, policy, users,
journal, runtime) are built once per process from ``Settings`` and bound to every node:
each node gets the runtime with the full ``Context`` in place of the JSON one, so the
nodes, ``ChatRunner`` and the channels stay exactly as they are.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.runtime import Runtime

from graphs import chat
from graphs.context import Context
from graphs.state import ChatState


@dataclass
class RunSettings:
    """What a client may set per run (the assistant's or the run's ``context``)."""

    sources_k: int = 4
    """How many library passages a turn retrieves."""


def build_served_graph(
    context_of: Callable[[], Context], checkpointer: BaseCheckpointSaver[Any] | None = None
) -> Any:
    """Compile the chat graph with ``context_of()``'s services bound to every node."""

    def bind(node: Callable[..., Any]) -> Callable[..., Any]:
        wants_runtime = "runtime" in inspect.signature(node).parameters
        is_async = inspect.iscoroutinefunction(node)

        async def bound(state: ChatState, runtime: Runtime[Any]) -> Any:
            return said(state, await run(state, runtime))

        async def run(state: ChatState, runtime: Runtime[Any]) -> Any:
            if not wants_runtime:
                return await node(state)
            settings = runtime.context
            # Off the event loop: the first call builds the services (files, SQLite, Chroma).
            context = await asyncio.to_thread(context_of)
            if isinstance(settings, RunSettings):
                context = replace(context, sources_k=settings.sources_k)
            served = runtime.override(context=context)
            if is_async:
                return await node(state, served)
            # A plain node's service calls block: a worker thread runs it, as LangGraph
            # does for plain nodes (the run's config goes along, so interrupt() works).
            return await asyncio.to_thread(node, state, served)

        bound.__name__ = node.__name__
        bound.__doc__ = node.__doc__
        return bound

    overrides = {node.__name__: bind(node) for node in chat.NODES}
    return chat.build_chat_graph(checkpointer, overrides=overrides, context_schema=RunSettings)


def said(state: ChatState, update: Any) -> Any:
    """Add the text a node shows to the chat messages, when the turn came as messages."""
    shown = update.get("message") if isinstance(update, dict) else None
    if not shown or not state.get("messages"):
        return update
    return {**update, "messages": [{"type": "ai", "content": shown["text"]}]}


@cache
def process_context() -> Context:
    """Build this process's services from ``Settings`` (``FLOWDRAFT_*``), once."""
    from assistant.services import build_services

    return build_services().context()


graph = build_served_graph(process_context)
"""The compiled chat graph; the server attaches its own checkpointer and store."""
