"""The Automations pages: what is live, its trigger, status toggles, hook tokens, versions.

Every change goes through the runtime's own functions, which check the user's roles and
audit refusals: ``change_status`` and ``rotate_hook_token`` (owner, approvers or admins).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.runtime import store
from assistant.runtime.activation import (
    ChangeRefused,
    allowed_to_change,
    change_status,
    hook_url,
    rotate_hook_token,
)
from assistant.runtime.models import Automation, Run, RunEngine
from assistant.runtime.schedule_sync import sync_after_change
from assistant.runtime.service import NoRunEngine
from assistant.web.views.access import Viewer
from assistant.web.views.context import ViewContext
from assistant.web.views.pages import aware, render_page
from assistant.web.views.versions import revert, workflow_versions

log = logging.getLogger(__name__)
TOGGLES: dict[str, list[tuple[str, str]]] = {
    "active": [("pause", "Pause"), ("shadow", "Shadow (record, do not act)")],
    "paused": [("resume", "Resume")],
    "shadow": [("live", "Go live"), ("pause", "Pause")],
    "retired": [],
}
"""The status changes offered for each status, with their button labels."""
RECENT_RUNS = 2000
TALLY_WINDOW = timedelta(days=7)
"""How far back the list counts each automation's runs by status."""


class StatusChange(BaseModel):
    """A status toggle pressed on the page."""

    change: Literal["pause", "resume", "shadow", "live"]


class Revert(BaseModel):
    """The version whose content should become a new draft."""

    version: int = Field(ge=1)


def refusal(exc: Exception) -> JSONResponse:
    """Return a refused change as the page shows it."""
    status = 403 if isinstance(exc, ChangeRefused) else 409
    if isinstance(exc, store.StoreError) and "no automation" in str(exc):
        status = 404
    return JSONResponse({"ok": False, "message": str(exc)}, status_code=status)


def automations_pages(ctx: ViewContext) -> APIRouter:
    """Return the Automations pages and their actions."""
    router = APIRouter(prefix="/app")
    acting = Depends(ctx.acting_viewer)
    db = ctx.db

    @router.get("", include_in_schema=False)
    @router.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/app/inbox", status_code=303)

    @router.get("/automations", response_class=HTMLResponse)
    async def automations_page(request: Request) -> HTMLResponse:
        """List automations: live ones first, retired ones below."""
        viewer = await ctx.page_viewer(request)
        found = await run_in_threadpool(store.list_automations, db)
        recent = await run_in_threadpool(store.list_runs, db, limit=RECENT_RUNS)
        live = [a for a in found if a.status != "retired"]
        retired = [a for a in found if a.status == "retired"]
        return render_page(
            "automations.html",
            viewer,
            page="automations",
            live=live,
            retired=retired,
            base_url=ctx.services.settings.base_url,
            tallies=tally(recent, since=datetime.now(UTC) - TALLY_WINDOW),
        )

    @router.get("/automations/{automation_id}", response_class=HTMLResponse)
    async def automation_page(automation_id: str, request: Request) -> HTMLResponse:
        """Show one automation with its toggles, versions and recent runs."""
        viewer = await ctx.page_viewer(request)
        automation = await known(automation_id)
        versions = await run_in_threadpool(workflow_versions, db, automation.workflow_id)
        runs = await run_in_threadpool(store.list_runs, db, automation_id=automation.id, limit=10)
        siblings = await run_in_threadpool(
            store.list_automations, db, workflow_id=automation.workflow_id
        )
        return render_page(
            "automation.html",
            viewer,
            page="automations",
            automation=automation,
            toggles=TOGGLES[automation.status],
            hook_url=hook_url(automation, ctx.services.settings.base_url),
            versions=versions,
            latest=versions[0].draft.version if versions else automation.version,
            live_versions={a.version: a for a in siblings},
            runs=runs,
            titles={automation.id: automation.title},
        )

    @router.post("/automations/{automation_id}/status")
    async def change(
        automation_id: str, body: StatusChange, viewer: Viewer = acting
    ) -> JSONResponse:
        """Pause, resume, shadow or make live; refused (403) for anyone but who may."""
        try:
            changed = await run_in_threadpool(
                change_status,
                db,
                automation_id=automation_id,
                change=body.change,
                user=viewer.name,
                directory=ctx.directory,
            )
        except (ChangeRefused, store.StoreError) as exc:
            return refusal(exc)
        if changed.trigger.cron:
            await keep_schedule(changed)
        said = f"{changed.title} v{changed.version} is now {changed.status}."
        return JSONResponse({"ok": True, "message": said, "status": changed.status})

    @router.post("/automations/{automation_id}/hook-token")
    async def new_token(automation_id: str, viewer: Viewer = acting) -> JSONResponse:
        """Issue a new hook token (shown this once); the old one stops working."""
        try:
            token = await run_in_threadpool(
                rotate_hook_token,
                db,
                automation_id=automation_id,
                user=viewer.name,
                directory=ctx.directory,
            )
        except (ChangeRefused, store.StoreError) as exc:
            return refusal(exc)
        said = "New hook token issued; the old one no longer works. Copy it now: it is not shown again."
        return JSONResponse({"ok": True, "message": said, "token": token})

    @router.post("/automations/{automation_id}/revert")
    async def revert_to(automation_id: str, body: Revert, viewer: Viewer = acting) -> JSONResponse:
        """Put an earlier version's content on the workflow's thread as a new draft."""
        try:
            automation = await run_in_threadpool(
                allowed_to_change,
                db,
                automation_id=automation_id,
                change=f"revert to v{body.version}",
                user=viewer.name,
                directory=ctx.directory,
            )
        except (ChangeRefused, store.StoreError) as exc:
            return refusal(exc)
        versions = await run_in_threadpool(workflow_versions, db, automation.workflow_id)
        target = next((v.draft for v in versions if v.draft.version == body.version), None)
        if target is None:
            return JSONResponse(
                {"ok": False, "message": f"no version {body.version} of {automation.title}"}, 404
            )
        outcome, thread = await revert(
            ctx.runner(),
            db,
            automation=automation,
            target=target,
            latest=versions[0].draft.version,
            user=viewer.name,
        )
        answer: dict[str, Any] = outcome.model_dump(mode="json")
        answer["thread"] = thread
        return JSONResponse(answer, status_code=200 if outcome.ok else 409)

    async def known(automation_id: str) -> Automation:
        found = await run_in_threadpool(store.get_automation, db, automation_id=automation_id)
        if found is None:
            raise HTTPException(404, f"no automation {automation_id!r}")
        return found

    async def keep_schedule(changed: Automation) -> None:
        """Bring the schedule in step; with no engine, `flowdraft serve` does it at start."""
        try:
            engine: RunEngine | None = ctx.desk().engine
        except NoRunEngine:
            engine = None
        log.info("%s: %s", changed.id, await sync_after_change(db, engine, changed))

    return router


def tally(runs: list[Run], *, since: datetime) -> dict[str, Counter[str]]:
    """Count each automation's runs started after ``since`` by status."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for run in runs:
        started = aware(run.started_at)
        if started is not None and started >= since:
            counts[run.automation_id][run.status] += 1
    return counts
