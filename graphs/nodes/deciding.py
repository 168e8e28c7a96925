"""Nodes where people decide on a workflow draft: the review pause and the approval.

Both are plain functions: the graph runs them in a worker thread, so their directory and
journal calls (database reads and writes) never block the event loop.
"""

from __future__ import annotations

from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import Interrupt, interrupt
from pydantic import ValidationError

from assistant.review import workflow_review
from assistant.schemas import ReviewResponse
from graphs.context import Context
from graphs.decisions import OPEN_MODE, refusal, requesters_of
from graphs.nodes.common import current_workflow, message
from graphs.offers import offered
from graphs.resumes import normalize_answer
from graphs.samples import SampleError, sample_request
from graphs.state import ChatState


def review(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Pause for a person to accept, edit, answer or reject the draft; refuse what may not be.

    A refused or malformed answer is journaled and the graph comes back here, so the thread
    keeps waiting on the same review: nothing after ``interrupt`` raises.
    """
    context = runtime.context
    draft = current_workflow(state)
    request = workflow_review(draft, state.get("notice"), state.get("required_roles") or [])
    answer = normalize_answer(interrupt(offered(request)))
    # Code after interrupt() runs once per answer, so each answer is journaled once.
    thread, content_hash = state["thread"], draft.content_hash
    try:
        decision = ReviewResponse.model_validate(answer)
    except ValidationError as exc:
        problem = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'decision'}: {e['msg']}" for e in exc.errors()
        )
        user = answer.get("user") if isinstance(answer, dict) else None
        context.journal.event(
            "decision_malformed",
            actor=str(user or "unknown"),
            thread=thread,
            content_hash=content_hash,
            problem=problem[:500],
        )
        return refused(f"That decision was not understood ({problem}); the review is still open.")
    if decision.type == "response" and isinstance(decision.args, str):
        try:
            sample = sample_request(decision.args)
        except SampleError as exc:
            return refused(f"That test run was not started: {exc}. The review is still open.")
        if sample is not None:  # read-only: anyone in the thread may test the draft
            return {
                "decision": None,
                "decision_refused": False,
                "test_requested": True,
                "sample_event": sample or state.get("sample_event") or {},
                "message": None,
            }
    denied = refusal(decision, request, state, context)
    if denied:
        context.journal.event(
            "decision_refused",
            actor=decision.user,
            thread=thread,
            content_hash=content_hash,
            type=decision.type,
            reason=denied.reason,
        )
        return refused(denied.text)
    winner = context.journal.claim(
        answered_review(thread), thread=thread, user=decision.user, decision=decision.type
    )
    if winner is not None:
        context.journal.event(
            "decision_refused",
            actor=decision.user,
            thread=thread,
            content_hash=content_hash,
            type=decision.type,
            reason=f"already answered by {winner}",
        )
        return refused(f"This review was already answered by {winner}.")
    note = {"note": OPEN_MODE} if context.directory.is_open() else {}
    context.journal.event(
        "decision",
        actor=decision.user,
        thread=thread,
        content_hash=content_hash,
        type=decision.type,
        **note,
    )
    return {
        "decision": decision.model_dump(mode="json"),
        "decision_refused": False,
        "test_requested": False,
        "notice": None,
        "message": None,
    }


def answered_review(thread: str) -> str:
    """Return the claim key of the review this node run is answering.

    It is the key ``ChatRunner`` claims before resuming (thread and interrupt id), so a
    decision that came through a channel is not claimed twice, and one that came straight
    to the graph (LangGraph Server) is claimed here: either way a review has one answer.
    """
    namespace = str(get_config()["configurable"].get("checkpoint_ns", ""))
    return f"{thread}:{Interrupt.from_ns(None, namespace).id}"


def refused(text: str) -> dict[str, Any]:
    """Return the update for an answer that was not applied: say why, keep the review."""
    return {
        "decision": None,
        "decision_refused": True,
        "test_requested": False,
        "message": message(text),
    }


def approve(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Check the approver's roles; record the approval, or refuse it and keep waiting."""
    context = runtime.context
    draft = current_workflow(state)
    user = ReviewResponse.model_validate(state["decision"]).user
    prior = list(state.get("approvals") or [])
    requesters = requesters_of(state)
    auth = context.policy.authorize(
        context.policy.verdict(draft),
        approver=user,
        approver_roles=context.directory.roles_of(user),
        requesters=requesters,
        prior=prior,
        open_mode=context.directory.is_open(),
    )
    thread, content_hash = state["thread"], draft.content_hash
    if not auth.allowed:
        can = [
            n
            for n in context.directory.who_can(context.policy.policy.roles_satisfying(auth.missing))
            if n not in requesters
        ]
        who = (
            f" Who can approve: {', '.join(can)}."
            if can
            else " Nobody with that role is set up yet."
        )
        text = f"Approval by {user} refused: {auth.reason}.{who if auth.missing else ''}"
        context.journal.event(
            "approval_refused",
            actor=user,
            thread=thread,
            content_hash=content_hash,
            reason=auth.reason,
        )
        return {
            "approval_complete": False,
            "decision_refused": True,
            "notice": text,
            "message": message(text),
        }
    record = {
        "user": user,
        "roles": context.directory.roles_of(user) or [],
        "content_hash": content_hash,
    }
    approvals = [*prior, record]
    if not auth.complete:
        text = f"Approved by {user} for {', '.join(auth.covered)}; still needs {', '.join(auth.missing)}."
        context.journal.event(
            "approval_partial",
            actor=user,
            thread=thread,
            content_hash=content_hash,
            missing=auth.missing,
        )
        return {
            "approvals": approvals,
            "approval_complete": False,
            "notice": text,
            "message": message(text),
        }
    context.journal.event(
        "approved",
        actor=user,
        thread=thread,
        content_hash=content_hash,
        note=auth.reason,
        approvers=[a["user"] for a in approvals],
    )
    return {"approvals": approvals, "approval_complete": True, "notice": None, "message": None}
