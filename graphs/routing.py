"""Where the chat graph goes next: small named functions returning the next node."""

from __future__ import annotations

from typing import Literal

from graphs.state import ChatState


def route_intent(
    state: ChatState,
) -> Literal["retrieve_context", "clarify", "small_talk", "revise_workflow", "no_draft"]:
    """Send each intent to the node that handles it."""
    kind = state["intent"]["kind"]
    if kind in ("automate", "question", "reply"):
        return "retrieve_context"
    if kind == "revise":
        return "revise_workflow" if state.get("workflow") else "no_draft"
    if kind == "clarify":
        return "clarify"
    return "small_talk"


def route_retrieved(state: ChatState) -> Literal["draft_workflow", "answer", "draft_reply"]:
    """After retrieval: draft, answer or reply, per intent."""
    kind = state["intent"]["kind"]
    if kind == "automate":
        return "draft_workflow"
    if kind == "reply":
        return "draft_reply"
    return "answer"


def route_decision(
    state: ChatState,
) -> Literal["approve", "revise_workflow", "edit_workflow", "discard", "review", "test_run"]:
    """Act on the reviewer's decision; a refused one goes back to the same review."""
    if state.get("decision_refused"):
        return "review"
    if state.get("test_requested"):
        return "test_run"
    kind = (state.get("decision") or {}).get("type")
    if kind == "accept":
        return "approve"
    if kind == "response":
        return "revise_workflow"
    if kind == "edit":
        return "edit_workflow"
    return "discard"


def route_approval(state: ChatState) -> Literal["activate", "review"]:
    """Go live once approval is complete; otherwise keep waiting for the right approver."""
    return "activate" if state.get("approval_complete") else "review"


def route_revised(state: ChatState) -> Literal["check_policy", "review"]:
    """A new version is checked again; a failed revision goes back to the reviewer as is."""
    return "review" if state.get("revision_failed") else "check_policy"


def route_reply_decision(state: ChatState) -> Literal["send_reply", "discard"]:
    """Send an accepted or edited reply; anything else discards it."""
    kind = (state.get("decision") or {}).get("type")
    return "send_reply" if kind in ("accept", "edit") else "discard"
