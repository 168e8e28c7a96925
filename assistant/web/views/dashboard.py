"""The admin dashboard: the business signals and the drift check, charted over a window.

The numbers are ``compute_stats`` and ``check_drift`` called in-process (the same as
``flowdraft stats --json`` and ``flowdraft drift``), not the token-guarded API. Only
admins see them: the page tells anyone else so with a 403 rather than an empty page.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.observability.drift import check_drift
from assistant.observability.settings import ObservabilitySettings
from assistant.observability.stats import compute_stats
from assistant.web.views.context import ViewContext
from assistant.web.views.pages import render_page
from assistant.web.views.runs import chart_json
from assistant.web.views.signals import (
    WINDOWS,
    drift_rows,
    latency_chart,
    rates_chart,
    signal_rows,
    status_chart,
    window_of,
)


def dashboard_pages(ctx: ViewContext) -> APIRouter:
    """Return the dashboard page."""
    router = APIRouter(prefix="/app")

    @router.get("/dashboard", response_class=HTMLResponse)
    async def dashboard(request: Request, days: int = 30) -> HTMLResponse:
        """Chart the business signals of the last ``days`` days (7, 30 or 90) for admins."""
        viewer = await ctx.page_viewer(request)
        if not viewer.is_admin:
            return render_page("forbidden.html", viewer, status=403, page="dashboard")
        window = window_of(days)
        settings = ctx.services.settings
        figures = await run_in_threadpool(
            compute_stats, ctx.db, brain=settings.model, library=settings.library, days=window
        )
        threshold = ObservabilitySettings().drift_threshold
        drift = await run_in_threadpool(check_drift, ctx.db, threshold=threshold)
        latencies = latency_chart(figures)
        return render_page(
            "dashboard.html",
            viewer,
            page="dashboard",
            window=window,
            windows=WINDOWS,
            rows=signal_rows(figures),
            rates=chart_json(rates_chart(figures)),
            latencies=chart_json(latencies),
            statuses=chart_json(status_chart(figures)),
            drift=drift,
            drift_rows=drift_rows(drift),
        )

    return router
