"""Nodes of the workflow path: draft, policy, revision, discard (review: ``deciding``).

Nodes that await the brain journal through ``record``; the others are plain functions,
which the graph runs in a worker thread (policy, versions and audit touch the database).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from assistant.review import EditError, apply_edit
from assistant.runtime.steps import event_fields
from assistant.schemas import Intent, ReviewResponse, WorkflowDraft
from graphs.context import Context
from graphs.decisions import changed_high_risk, requesters_of
from graphs.nodes.common import current_workflow, message, passages_of, record
from graphs.state import ChatState


async def draft_workflow(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Draft version 1 of the workflow; the person asking is its requester."""
    intent = Intent.model_validate(state["intent"])
    draft = await runtime.context.brain.draft_workflow(state["goal"], intent, passages_of(state))
    await record(
        runtime.context.journal,
        "draft",
        actor=state["user"],
        thread=state["thread"],
        workflow=draft.id,
        playbook=draft.playbook,
    )
    return {
        "workflow": draft.model_dump(mode="json"),
        "approved_by": None,
        "requester": state["user"],
        "requesters": [state["user"]],
        "approvals": [],
        "edited_by": None,
    }


def check_policy(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Mark every step with risk, approver role and blocked reason; store the version.

    An editor who changed what a high-risk workflow does becomes one of its requesters.
    """
    verdict = runtime.context.policy.verdict(current_workflow(state))
    checked = verdict.draft
    thread = state["thread"]
    journal = runtime.context.journal
    journal.version(checked, thread=thread, author=state.get("user", "anonymous"))
    journal.event(
        "policy",
        actor="policy",
        thread=thread,
        content_hash=checked.content_hash,
        version=checked.version,
        risk=verdict.risk,
        required_roles=verdict.required_roles,
        blocked=[s.id for s in verdict.blocked],
        warnings=verdict.warnings,
    )
    journal.event(
        "review_requested", actor="flowdraft", thread=thread, content_hash=checked.content_hash
    )
    dumped = checked.model_dump(mode="json")
    history = [v for v in state.get("versions") or [] if v["id"] == checked.id]
    approvals = [
        a for a in state.get("approvals") or [] if a.get("content_hash") == checked.content_hash
    ]
    notice = sentences([state.get("notice"), *verdict.warnings, unfed(checked)]) or None
    requesters = requesters_of(state)
    editor = state.get("edited_by")
    if editor and history and editor not in requesters:
        previous = WorkflowDraft.model_validate(history[-1])
        if changed_high_risk(previous, checked):
            requesters.append(editor)
            journal.event(
                "requester_added",
                actor=editor,
                thread=thread,
                content_hash=checked.content_hash,
                reason="changed a high-risk step; may not approve this version",
            )
    return {
        "workflow": dumped,
        "versions": [*history, dumped],
        "requesters": requesters,
        "edited_by": None,
        "risk": verdict.risk,
        "required_roles": verdict.required_roles,
        "approvals": approvals,
        "notice": notice,
    }


async def revise_workflow(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Make the next version from a plain-language instruction, or explain what went wrong."""
    decision = state.get("decision") or {}
    instruction = decision.get("args") if decision.get("type") == "response" else state["text"]
    user = decision.get("user") or state.get("user", "anonymous")
    revision = await runtime.context.brain.revise_workflow(
        current_workflow(state), str(instruction)
    )
    journal = runtime.context.journal
    if revision.draft is None:
        await record(
            journal,
            "edit_refused",
            actor=user,
            thread=state["thread"],
            instruction=str(instruction)[:500],
        )
        return {
            "notice": revision.problem,
            "revision_failed": True,
            "message": message(revision.problem or ""),
        }
    summary = "; ".join(revision.changes)
    await record(
        journal,
        "edit",
        actor=user,
        thread=state["thread"],
        content_hash=revision.draft.content_hash,
        version=revision.draft.version,
        changes=summary,
    )
    return {
        "workflow": revision.draft.model_dump(mode="json"),
        "notice": f"v{revision.draft.version}: {summary}" if summary else None,
        "revision_failed": False,
        "edited_by": user,
        "message": None,
    }


def edit_workflow(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Apply a reviewer's structured edit as a new version."""
    decision = ReviewResponse.model_validate(state["decision"])
    journal = runtime.context.journal
    try:
        draft = apply_edit(current_workflow(state), decision.args)
    except EditError as exc:
        journal.event("edit_refused", actor=decision.user, thread=state["thread"], reason=str(exc))
        return {
            "notice": str(exc),
            "revision_failed": True,
            "message": message(f"That edit was not applied: {exc}"),
        }
    journal.event(
        "edit",
        actor=decision.user,
        thread=state["thread"],
        content_hash=draft.content_hash,
        version=draft.version,
        changes="structured edit",
    )
    return {
        "workflow": draft.model_dump(mode="json"),
        "notice": f"v{draft.version}: edited by {decision.user}",
        "revision_failed": False,
        "edited_by": decision.user,
        "message": None,
    }


def discard(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Close the review without doing anything."""
    decision = state.get("decision") or {}
    who = decision.get("user", "the reviewer")
    content_hash = (state.get("workflow") or {}).get("content_hash", "")
    runtime.context.journal.event(
        "rejected", actor=who, thread=state["thread"], content_hash=content_hash
    )
    return {"message": message(f"Rejected by {who}; nothing went live.")}


def unfed(draft: WorkflowDraft) -> str | None:
    """Warn when a scheduled draft's steps read event fields that no schedule supplies."""
    if draft.trigger.kind != "schedule":
        return None
    fields = [f for f in event_fields(draft) if not f.startswith("schedule.")]
    if not fields:
        return None
    shown = ", ".join(fields[:4]) + (", …" if len(fields) > 4 else "")
    return (
        f"A schedule starts runs with no event, but the steps read {shown}: scheduled runs "
        "will be refused until those steps stop reading event values (or the trigger is an event)"
    )


def sentences(parts: list[str | None]) -> str:
    """Join notes into one text, ending each with a full stop so they do not run together."""
    return " ".join(p if p.rstrip().endswith((".", "!", "?")) else f"{p}." for p in parts if p)
