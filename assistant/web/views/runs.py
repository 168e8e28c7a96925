"""The Runs pages: runs filtered by automation and status, plots, and one run step by step.

A run's page shows each step's rendered input, output, who decided it and how long it
took; a failed run can be retried (``AutomationDesk.retry``, which checks who may), and
operators get a link to the run in the engine's own UI when the embedded one is on. A run
that has not finished is polled, and the page reloads when it moves on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import Markup
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.db.engine import session_scope
from assistant.db.tables import InboxRecord
from assistant.runtime import store
from assistant.runtime.models import FINISHED, Run, RunStatus
from assistant.runtime.service import RunRefused
from assistant.web.views.access import Viewer
from assistant.web.views.charts import approval_waits, runs_per_day
from assistant.web.views.context import ViewContext
from assistant.web.views.pages import render_page

STATUSES: tuple[str, ...] = get_args(RunStatus)
CHART_RUNS = 2000
"""Runs read for the plots (the newest); the table shows the newest 200."""


@dataclass
class StepDecision:
    """Who decided a run's waiting step, and when it was asked."""

    step_id: str
    asked_at: datetime
    due_at: datetime | None
    decided_by: str | None
    decision: str | None
    decided_at: datetime | None


def decisions_of(db: Engine, run_id: str) -> dict[str, StepDecision]:
    """Return the inbox records of a run's approvals and tasks, by step id."""
    with session_scope(db) as session:
        rows = session.exec(
            select(InboxRecord)
            .where(InboxRecord.run_id == run_id)
            .order_by(col(InboxRecord.created_at))
        ).all()
        return {
            row.step_id or "": StepDecision(
                row.step_id or "",
                row.created_at,
                row.due_at,
                row.decided_by,
                row.decision,
                row.decided_at,
            )
            for row in rows
        }


def chart_json(data: dict[str, Any]) -> Markup:
    """Return chart data for a ``<script type="application/json">`` block (``</`` escaped)."""
    return Markup(json.dumps(data).replace("</", "<\\/"))


def runs_pages(ctx: ViewContext) -> APIRouter:
    """Return the Runs pages and the retry action."""
    router = APIRouter(prefix="/app")
    acting = Depends(ctx.acting_viewer)
    db = ctx.db

    @router.get("/runs", response_class=HTMLResponse)
    async def runs_page(request: Request, automation: str = "", status: str = "") -> HTMLResponse:
        """List runs (filtered), with runs per day and approval waits plotted."""
        viewer = await ctx.page_viewer(request)
        chosen: Any = status if status in STATUSES else None
        runs = await run_in_threadpool(
            store.list_runs, db, automation_id=automation or None, status=chosen
        )
        plotted = await run_in_threadpool(
            store.list_runs, db, automation_id=automation or None, limit=CHART_RUNS
        )
        automations = await run_in_threadpool(store.list_automations, db)
        waits = approval_waits(plotted)
        return render_page(
            "runs.html",
            viewer,
            page="runs",
            runs=runs,
            automations=automations,
            titles={a.id: a.title for a in automations},
            statuses=STATUSES,
            chosen_automation=automation,
            chosen_status=chosen or "",
            per_day=chart_json(runs_per_day(plotted)),
            waits=chart_json(waits),
            waiting_now=waits["waiting_now"],
        )

    @router.get("/runs/{run_id}/state.json")
    async def run_state(run_id: str, request: Request) -> dict[str, Any]:
        """Return a run's latest snapshot (``Run``), for its page to poll."""
        await ctx.data_viewer(request)
        return {"run": (await known(run_id)).model_dump(mode="json")}

    @router.get("/runs/{run_id}", response_class=HTMLResponse)
    async def run_page(run_id: str, request: Request) -> HTMLResponse:
        """Show one run step by step."""
        viewer = await ctx.page_viewer(request)
        run = await known(run_id)
        automation = await run_in_threadpool(
            store.get_automation, db, automation_id=run.automation_id
        )
        decisions = await run_in_threadpool(decisions_of, db, run.id)
        return render_page(
            "run.html",
            viewer,
            page="runs",
            run=run,
            automation=automation,
            decisions=decisions,
            finished=run.status in FINISHED,
            engine_ui=ctx.engine_ui(viewer, run.id),
        )

    @router.post("/runs/{run_id}/retry")
    async def retry(run_id: str, viewer: Viewer = acting) -> JSONResponse:
        """Redo a failed run from its failed step; refused for anyone but who may."""
        try:
            run = await ctx.run_desk().retry(run_id, actor=viewer.name)
        except RunRefused as exc:
            return JSONResponse({"ok": False, "message": exc.message}, status_code=exc.status)
        said = f"Retrying from the failed step as run {run.id}."
        return JSONResponse({"ok": True, "message": said, "run": run.id})

    async def known(run_id: str) -> Run:
        found = await run_in_threadpool(store.get_run, db, run_id=run_id)
        if found is None:
            raise HTTPException(404, f"no run {run_id!r}")
        return found

    return router
