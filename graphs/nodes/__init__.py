"""The chat graph's nodes: each reads state, calls one service and returns a partial update."""

from graphs.nodes.deciding import approve, review
from graphs.nodes.going_live import activate, test_run
from graphs.nodes.support import draft_reply, review_reply, send_reply
from graphs.nodes.understanding import (
    answer,
    capture_intent,
    clarify,
    no_draft,
    retrieve_context,
    small_talk,
)
from graphs.nodes.workflow import (
    check_policy,
    discard,
    draft_workflow,
    edit_workflow,
    revise_workflow,
)

__all__ = [
    "activate",
    "answer",
    "approve",
    "capture_intent",
    "check_policy",
    "clarify",
    "discard",
    "draft_reply",
    "draft_workflow",
    "edit_workflow",
    "no_draft",
    "retrieve_context",
    "review",
    "review_reply",
    "revise_workflow",
    "send_reply",
    "small_talk",
    "test_run",
]
