"""A workflow's versions with their diffs, and "revert to this version" as a new draft.

Reverting never changes what runs: it puts a new version with the chosen version's title,
trigger and steps on the workflow's chat thread, checked by policy and waiting for review
like any edit (so the live automation changes only when someone with the role approves).

- When the thread waits for review of the same workflow, the revert is an ``edit`` decision
  through the chat runner, bound to the version waiting (the graph checks who may edit).
- When the thread has finished (the version went live), the same edit is recorded as the
  thread's answer to its last review and the graph continues from there: edit, policy,
  review. Only the automation's owner, approvers and admins may do that (checked first).
- When the thread holds another workflow now (or the automation has no thread), a new chat
  thread is opened with the reverted content as its draft.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from assistant.db.engine import session_scope
from assistant.db.tables import AutomationRecord, WorkflowVersion
from assistant.db.versions import diff_versions
from assistant.review import review_hash
from assistant.runtime import store
from assistant.runtime.models import Automation, Outcome
from assistant.schemas import ReviewResponse, WorkflowDraft
from graphs.runner import ChatRunner, InputError, review_of


@dataclass
class VersionRow:
    """One stored version, with its diff against the version before it."""

    draft: WorkflowDraft
    author: str
    thread: str
    created_at: datetime
    diff: str


def versions_of(
    db: Engine, workflow_id: str, live: Sequence[tuple[Automation, WorkflowDraft]] = ()
) -> list[VersionRow]:
    """Return every version of ``workflow_id``, newest first, each with its diff.

    ``live`` are the workflow's automations with the drafts they run: a version activated
    without a chat (``flowdraft`` commands, the API) is listed from its automation.
    """
    with session_scope(db) as session:
        rows = session.exec(
            select(WorkflowVersion)
            .where(WorkflowVersion.workflow_id == workflow_id)
            .order_by(col(WorkflowVersion.version))
        ).all()
        found = [
            (WorkflowDraft.model_validate_json(r.body), r.author, r.thread, r.created_at)
            for r in rows
        ]
    stored = {draft.version for draft, *_ in found}
    for automation, draft in live:
        if draft.version not in stored:
            found.append((draft, automation.owner, "", automation.created_at))
            stored.add(draft.version)
    found.sort(key=lambda row: row[0].version)
    versions: list[VersionRow] = []
    previous: WorkflowDraft | None = None
    for draft, author, thread, created_at in found:
        diff = diff_versions(previous, draft) if previous else ""
        versions.append(VersionRow(draft, author, thread, created_at, diff))
        previous = draft
    return list(reversed(versions))


def workflow_versions(db: Engine, workflow_id: str) -> list[VersionRow]:
    """Return the versions of ``workflow_id``, with those only its automations know."""
    live = [
        (automation, draft)
        for automation in store.list_automations(db, workflow_id=workflow_id)
        if (draft := store.automation_draft(db, automation_id=automation.id)) is not None
    ]
    return versions_of(db, workflow_id, live)


def automation_thread(db: Engine, automation_id: str) -> str:
    """Return the chat thread the automation was approved in ("" when activated elsewhere)."""
    with session_scope(db) as session:
        row = session.get(AutomationRecord, automation_id)
        return row.thread if row else ""


def edited_content(target: WorkflowDraft) -> dict[str, Any]:
    """Return the edit that gives a draft ``target``'s title, trigger and steps."""
    return {
        "workflow": {
            "title": target.title,
            "trigger": target.trigger.model_dump(mode="json"),
            "steps": [step.model_dump(mode="json") for step in target.steps],
        }
    }


async def revert(
    runner: ChatRunner,
    db: Engine,
    *,
    automation: Automation,
    target: WorkflowDraft,
    latest: int,
    user: str,
) -> tuple[Outcome, str]:
    """Put ``target``'s content on the workflow's thread as a new draft; return what happened.

    ``latest`` is the workflow's newest stored version. Returns the outcome and the thread
    the new draft waits in. The caller has checked ``user`` may change the automation.
    """
    thread = automation_thread(db, automation.id)
    snapshot = await runner.graph.aget_state(runner.config(thread)) if thread else None
    values: dict[str, Any] = dict(snapshot.values or {}) if snapshot else {}
    current = values.get("workflow") or {}
    edit = edited_content(target)
    if not thread or current.get("id") != automation.workflow_id:
        return await open_thread(runner, target, latest, user), ""
    pending = review_of(snapshot)
    decision = ReviewResponse(
        type="edit",
        args=edit,
        user=user,
        content_hash=review_hash(pending[1]) if pending else current.get("content_hash"),
    )
    try:
        if pending is not None:
            events = [e async for e in runner.send_decision(thread, decision)]
        else:
            # The thread finished with its last review answered: answer it again with this
            # edit, as the review node records an accepted answer, and let the graph go on.
            runner.context.journal.event(
                "decision",
                actor=user,
                thread=thread,
                content_hash=decision.content_hash or "",
                type="edit",
                reverts_to=target.version,
            )
            await runner.graph.aupdate_state(
                runner.config(thread),
                {
                    "decision": decision.model_dump(mode="json"),
                    "decision_refused": False,
                    "test_requested": False,
                    "notice": None,
                    "message": None,
                },
                as_node="review",
            )
            events = [e async for e in runner.resume(thread)]
    except InputError as exc:
        return Outcome(ok=False, message=str(exc)), thread
    state = await runner.state(thread)
    made = WorkflowDraft.model_validate(state["workflow"]) if state.get("workflow") else None
    if state.get("decision_refused") or state.get("revision_failed") or made is None:
        said = [str(e.get("text") or e.get("message") or "") for e in events]
        return Outcome(ok=False, message=" ".join(t for t in said if t) or "not reverted"), thread
    return Outcome(ok=True, message=waiting_text(made, target)), thread


async def open_thread(runner: ChatRunner, target: WorkflowDraft, latest: int, user: str) -> Outcome:
    """Open a new chat thread whose draft is ``target``'s content as version ``latest + 1``."""
    thread = f"revert-{uuid.uuid4().hex[:12]}"
    draft = target.model_copy(update={"version": latest + 1}).sealed()
    await runner.graph.aupdate_state(
        runner.config(thread),
        {
            "thread": thread,
            "user": user,
            "goal": draft.goal,
            "workflow": draft.model_dump(mode="json"),
            "versions": [],
            "requester": user,
            "requesters": [user],
            "approvals": [],
            "edited_by": None,
            "notice": f"v{draft.version}: reverted to the content of v{target.version}",
        },
        as_node="draft_workflow",
    )
    async for _ in runner.resume(thread):
        pass
    text = waiting_text(draft, target)
    return Outcome(ok=True, message=f"{text} A new chat thread holds it (open the chat to see it).")


def waiting_text(made: WorkflowDraft, target: WorkflowDraft) -> str:
    """Say which new version holds which old content, and where it waits."""
    return (
        f"v{made.version} of {made.title} has the content of v{target.version} and waits for "
        "review: it goes live only when someone with the role approves it (Inbox or chat)."
    )
