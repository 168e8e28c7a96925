"""The chat graph: intent -> retrieval -> draft -> policy -> review -> activate (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from graphs import nodes
from graphs.context import Context
from graphs.routing import (
    route_approval,
    route_decision,
    route_intent,
    route_reply_decision,
    route_retrieved,
    route_revised,
)
from graphs.state import ChatState

NODES = (
    nodes.capture_intent,
    nodes.retrieve_context,
    nodes.draft_workflow,
    nodes.check_policy,
    nodes.review,
    nodes.approve,
    nodes.revise_workflow,
    nodes.edit_workflow,
    nodes.activate,
    nodes.test_run,
    nodes.discard,
    nodes.answer,
    nodes.clarify,
    nodes.small_talk,
    nodes.no_draft,
    nodes.draft_reply,
    nodes.review_reply,
    nodes.send_reply,
)


def build_chat_graph(
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    *,
    overrides: Mapping[str, Callable[..., Any]] | None = None,
    context_schema: type[Any] = Context,
) -> Any:
    """Compile the chat graph with ``checkpointer`` (None keeps no state between calls).

    ``overrides`` swaps node implementations by name while keeping the topology; the
    benchmark uses it to measure the same graph with no-op nodes. A name the graph has no
    node for raises ``ValueError``: silently keeping the real node would skew the floor.
    ``context_schema`` is what a run's context must be (``graphs.server`` serves settings).
    """
    unknown = set(overrides or {}) - {node.__name__ for node in NODES}
    if unknown:
        raise ValueError(f"no node to override: {', '.join(sorted(unknown))}")
    builder = StateGraph(ChatState, context_schema=context_schema)
    for node in NODES:
        builder.add_node(node.__name__, (overrides or {}).get(node.__name__, node))
    builder.add_edge(START, "capture_intent")
    builder.add_conditional_edges("capture_intent", route_intent)
    builder.add_conditional_edges("retrieve_context", route_retrieved)
    builder.add_edge("draft_workflow", "check_policy")
    builder.add_edge("check_policy", "review")
    builder.add_conditional_edges("review", route_decision)
    builder.add_conditional_edges("revise_workflow", route_revised)
    builder.add_conditional_edges("edit_workflow", route_revised)
    builder.add_conditional_edges("approve", route_approval)
    builder.add_edge("test_run", "review")
    builder.add_edge("draft_reply", "review_reply")
    builder.add_conditional_edges("review_reply", route_reply_decision)
    for last in (
        "activate",
        "discard",
        "answer",
        "clarify",
        "small_talk",
        "no_draft",
        "send_reply",
    ):
        builder.add_edge(last, END)
    return builder.compile(checkpointer=checkpointer)
