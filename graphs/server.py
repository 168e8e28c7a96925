"""The chat graph as LangGraph Server serves it (``langgraph.json`` points at ``graph``).

The server passes a run's context as JSON, so the served graph's context schema holds
settings only (``RunSettings``). Services (brain, retriever, connectors, policy, users,
journal, runtime) are built once per process from ``Settings`` and bound to every node:
each node gets the runtime with the full ``Context`` in place of the JSON one, so the
nodes, ``ChatRunner`` and the channels stay exactly as they are. Agent Inbox's "Mark as
resolved" runs no node (``updateState`` as ``END``), so the served graph journals it itself.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from graphs import chat
from graphs.context import Context
from graphs.process import STATE_UPDATER, process_context
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
    compiled = chat.build_chat_graph(checkpointer, overrides=overrides, context_schema=RunSettings)

    class ServedGraph(CompiledStateGraph[Any, Any, Any, Any]):
        """The chat graph, journaling Agent Inbox's "Mark as resolved" (no node runs for it)."""

        async def aupdate_state(
            self,
            config: RunnableConfig,
            values: dict[str, Any] | Any,
            as_node: str | None = None,
            task_id: str | None = None,
        ) -> RunnableConfig:
            """Update the thread's state; a review closed with ``as_node=END`` is journaled."""
            waiting = None
            if as_node == END and not values:
                waiting = await self.aget_state(config)
            updated = await super().aupdate_state(config, values, as_node, task_id)
            if waiting is not None and waiting.interrupts:
                thread = str((config.get("configurable") or {}).get("thread_id") or "")
                actor = STATE_UPDATER.get() or "anonymous"
                context = await asyncio.to_thread(context_of)
                await asyncio.to_thread(journal_resolved, context, waiting.values, thread, actor)
            return updated

    return ServedGraph(**{k: v for k, v in compiled.__dict__.items() if k != "__orig_class__"})


def journal_resolved(context: Context, values: dict[str, Any], thread: str, actor: str) -> None:
    """Record that ``actor`` closed the thread's open review without a decision."""
    workflow = values.get("workflow") or {}
    ticket = (values.get("ticket") or {}).get("id")
    context.journal.event(
        "resolved",
        actor=actor,
        thread=str(values.get("thread") or thread),
        content_hash=str(workflow.get("content_hash") or ""),
        version=workflow.get("version"),
        **({"ticket": ticket} if ticket else {}),
        note="review closed without a decision (Mark as resolved); nothing went live",
    )


def said(state: ChatState, update: Any) -> Any:
    """Add the text a node shows to the chat messages, when the turn came as messages."""
    shown = update.get("message") if isinstance(update, dict) else None
    if not shown or not state.get("messages"):
        return update
    return {**update, "messages": [{"type": "ai", "content": shown["text"]}]}


graph = build_served_graph(process_context)
"""The compiled chat graph; the server attaches its own checkpointer and store."""
