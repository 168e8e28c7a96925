"""Workflow drafts waiting for review in chat threads: which a user may approve, and deciding.

A draft waits in its chat thread's graph (a LangGraph interrupt), not in the inbox table.
The recent threads that stored a version are asked what they wait on; a draft is shown to
whoever the policy would let approve it now (the same check the chat's Approve button
meets). A decision goes through the chat runner like a button in the chat, bound to the
version shown, so the graph checks roles, separation of duties and staleness again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, func, select
from starlette.concurrency import run_in_threadpool

from assistant.db.engine import session_scope
from assistant.db.tables import WorkflowVersion
from assistant.db.users import Directory
from assistant.policy.checker import PolicyChecker
from assistant.review import review_hash
from assistant.runtime.models import InboxItem, Outcome
from assistant.schemas import ReviewRequest, ReviewResponse, WorkflowDraft
from graphs.decisions import requesters_of
from graphs.runner import ChatRunner, InputError, review_of

RECENT = timedelta(days=30)
"""Threads whose last version is older than this are not searched for waiting drafts."""
MAX_THREADS = 60
REVIEW_PREFIX = "review:"


@dataclass
class WaitingReview:
    """A workflow version waiting for review in a chat thread."""

    thread: str
    request: ReviewRequest
    draft: WorkflowDraft
    requesters: list[str]
    needs: list[str]
    since: datetime

    def item(self) -> InboxItem:
        """Return it as an inbox item (``workflow_review``)."""
        return InboxItem(
            id=f"{REVIEW_PREFIX}{self.thread}",
            kind="workflow_review",
            thread=self.thread,
            approver_role=self.needs[0] if self.needs else None,
            request=self.request,
            created_at=self.since,
        )


def recent_threads(db: Engine) -> list[tuple[str, datetime]]:
    """Return threads that stored a workflow version lately, with when, newest first."""
    since = datetime.now(UTC) - RECENT
    with session_scope(db) as session:
        last = func.max(WorkflowVersion.created_at)
        rows = session.exec(
            select(WorkflowVersion.thread, last)
            .where(col(WorkflowVersion.created_at) >= since)
            .group_by(col(WorkflowVersion.thread))
            .order_by(last.desc())
            .limit(MAX_THREADS)
        ).all()
    return [(thread, moment) for thread, moment in rows if thread]


async def waiting_for(
    user: str,
    *,
    db: Engine,
    runner: ChatRunner,
    policy: PolicyChecker,
    directory: Directory,
) -> list[WaitingReview]:
    """Return the drafts waiting for review that ``user`` may approve now, oldest first."""
    roles = await run_in_threadpool(directory.roles_of, user)
    open_mode = await run_in_threadpool(directory.is_open)
    found: list[WaitingReview] = []
    for thread, since in await run_in_threadpool(recent_threads, db):
        snapshot = await runner.graph.aget_state(runner.config(thread))
        pending = review_of(snapshot)
        workflow = pending[1].action_request.args.get("workflow") if pending else None
        if pending is None or not isinstance(workflow, dict):
            continue  # nothing waits, or a ticket reply (the support desk's)
        draft = WorkflowDraft.model_validate(workflow)
        state: dict[str, Any] = dict(snapshot.values or {})
        requesters = requesters_of(state)  # type: ignore[arg-type]
        auth = policy.authorize(
            policy.verdict(draft),
            approver=user,
            approver_roles=roles,
            requesters=requesters,
            prior=list(state.get("approvals") or []),
            open_mode=open_mode,
        )
        if auth.allowed:
            needs = list(auth.missing) or list(state.get("required_roles") or [])
            found.append(WaitingReview(thread, pending[1], draft, requesters, needs, since))
    return sorted(found, key=lambda review: review.since)


async def decide_review(
    runner: ChatRunner,
    thread: str,
    *,
    user: str,
    accept: bool,
    content_hash: str,
    reason: str | None = None,
) -> Outcome:
    """Approve or reject the draft waiting in ``thread`` as ``user``, bound to ``content_hash``.

    A refusal (wrong role, separation of duties, a newer version waiting) is ``ok=False``
    with the chat's own words, which say who can decide.
    """
    decision = ReviewResponse(
        type="accept" if accept else "ignore",
        args={"reason": reason} if reason and not accept else None,
        user=user,
        content_hash=content_hash or None,
    )
    said: list[str] = []
    try:
        async for event in runner.send_decision(thread, decision):
            if event["type"] in ("message", "error"):
                said.append(str(event.get("text") or event.get("message") or ""))
    except InputError as exc:
        return Outcome(ok=False, message=str(exc))
    state = await runner.state(thread)
    refused = bool(state.get("decision_refused"))
    if reason and not refused:
        # The graph keeps a decision's type, not its words: the reason goes to the audit log.
        runner.context.journal.event(
            "decision_reason", actor=user, thread=thread, content_hash=content_hash, reason=reason
        )
    fallback = "Decided." if not refused else "Refused."
    return Outcome(ok=not refused, message=" ".join(t for t in said if t) or fallback)


def bound_hash(review: WaitingReview) -> str:
    """Return the content hash a decision on ``review`` must carry."""
    return review_hash(review.request)
