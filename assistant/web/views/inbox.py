"""The Inbox page: every run approval, run task and workflow review the user may decide.

The page polls ``/app/inbox.json`` (the ``InboxItem`` contract, as ``/api/inbox``) every few
seconds; when the set of items changes it fetches their HTML from ``/app/inbox/items`` and
adds or removes only what changed, so a reason being typed is not wiped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.review import action_target
from assistant.runtime.models import InboxItem, Outcome
from assistant.runtime.service import NoRunEngine
from assistant.schemas import Step
from assistant.web.views.access import Viewer
from assistant.web.views.context import ViewContext
from assistant.web.views.pages import render_fragment, render_page
from assistant.web.views.reviews import REVIEW_PREFIX, decide_review, waiting_for

MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")
"""A backslash escape in the chat's markdown: the pages show the character itself."""
HIDDEN_ARGS = ("run", "step", "needs", "automation")
"""Request args shown elsewhere on an item (links, the heading), not among its values."""


class Decision(BaseModel):
    """An answer from the Inbox page."""

    decision: Literal["accept", "reject"]
    reason: str | None = Field(default=None, max_length=2000)
    content_hash: str = Field(default="", max_length=128)


@dataclass
class Entry:
    """An inbox item with what its card shows beside the contract."""

    item: InboxItem
    values: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    requesters: list[str] = field(default_factory=list)
    steps: list[tuple[Step, str]] = field(default_factory=list)
    """A workflow review's steps, each with what it does."""
    notes: list[str] = field(default_factory=list)
    chat_link: str | None = None


def review_notes(description: str) -> list[str]:
    """Return the lines of a review's description that say what it needs or what changed."""
    return [
        MARKDOWN_ESCAPE.sub(r"\1", line)
        for line in description.splitlines()
        if line.startswith(("Approval needed", "Blocked by policy", "Note:"))
    ]


def does(step: Step) -> str:
    """Return what a step does, in a few words (``slack.post_message → #finance``)."""
    if step.kind == "action":
        return f"{step.connector}.{step.operation}{action_target(step)}"
    if step.kind == "approval":
        return f"approval by {step.approver_role}"
    if step.kind == "condition":
        return f"if {step.condition}"
    return f"task for {step.approver_role or 'a person'}"


async def entries_for(ctx: ViewContext, viewer: Viewer) -> list[Entry]:
    """Return what ``viewer`` may decide: run items first by age, then workflow reviews."""
    entries: list[Entry] = []
    try:
        desk = ctx.desk()
    except NoRunEngine:
        desk = None  # no engine, no run items: workflow reviews still wait in the chat
    if desk is not None:
        for item in await run_in_threadpool(desk.inbox, viewer.name):
            args = item.request.action_request.args
            values = {
                k: v for k, v in args.items() if k not in HIDDEN_ARGS and v not in (None, "", [])
            }
            entries.append(Entry(item, values))
    services = ctx.services
    for review in await waiting_for(
        viewer.name,
        db=ctx.db,
        runner=ctx.runner(),
        policy=services.policy,
        directory=ctx.directory,
    ):
        own = viewer.name in review.requesters
        entries.append(
            Entry(
                review.item(),
                {"trigger": f"{review.draft.trigger.kind}: {review.draft.trigger.detail}"},
                content_hash=review.draft.content_hash,
                requesters=review.requesters,
                steps=[(step, does(step)) for step in review.draft.steps],
                notes=review_notes(review.request.description),
                chat_link=f"/chat/thread/{review.thread}" if own else None,
            )
        )
    return entries


def inbox_router(ctx: ViewContext) -> APIRouter:
    """Return the Inbox's page, its polled data and its decisions."""
    router = APIRouter(prefix="/app")
    acting = Depends(ctx.acting_viewer)

    @router.get("/inbox", response_class=HTMLResponse)
    async def inbox_page(request: Request) -> HTMLResponse:
        """Show the user's inbox."""
        viewer = await ctx.page_viewer(request)
        entries = await entries_for(ctx, viewer)
        return render_page("inbox.html", viewer, page="inbox", entries=entries)

    @router.get("/inbox.json")
    async def inbox_data(request: Request) -> dict[str, Any]:
        """List the items the user may decide (``InboxItem``), for the page to poll."""
        viewer = await ctx.data_viewer(request)
        entries = await entries_for(ctx, viewer)
        return {"items": [entry.item.model_dump(mode="json") for entry in entries]}

    @router.get("/inbox/items", response_class=HTMLResponse)
    async def inbox_items(request: Request) -> HTMLResponse:
        """Return the item cards, for the page to add the new ones."""
        viewer = await ctx.data_viewer(request)
        entries = await entries_for(ctx, viewer)
        return HTMLResponse(render_fragment("inbox_items.html", entries=entries))

    @router.post("/inbox/{item_id}")
    async def decide(item_id: str, body: Decision, viewer: Viewer = acting) -> JSONResponse:
        """Approve or reject an item; a refusal (403) says who can decide it."""
        accept = body.decision == "accept"
        reason = (body.reason or "").strip() or None
        if item_id.startswith(REVIEW_PREFIX):
            outcome = await decide_review(
                ctx.runner(),
                item_id.removeprefix(REVIEW_PREFIX),
                user=viewer.name,
                accept=accept,
                content_hash=body.content_hash,
                reason=reason,
            )
        else:
            outcome = await ctx.run_desk().decide(
                item_id, user=viewer.name, accept=accept, reason=reason
            )
            if outcome.ok:
                outcome = Outcome(ok=True, message=decided_message(outcome, accept))
        return JSONResponse(outcome.model_dump(mode="json"), status_code=200 if outcome.ok else 403)

    return router


def decided_message(outcome: Outcome, accept: bool) -> str:
    """Return what the user reads after deciding a run's item."""
    verb = "Approved" if accept else "Rejected"
    return f"{verb}. {outcome.message}".strip()
