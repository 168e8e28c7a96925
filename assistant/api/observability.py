"""``GET /metrics`` (Prometheus text) and ``GET /api/stats`` (the business signals as JSON).

Both need an API token (``Authorization: Bearer``, from ``flowdraft tokens create``):
metrics name automations and show how busy the product is, which is nobody's business
outside. ``FLOWDRAFT_METRICS_OPEN=true`` lets a scraper on a private network read
``/metrics`` without one. Neither answer may be read by another site's scripts: no CORS
header is added here and ``Cross-Origin-Resource-Policy: same-origin`` is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from assistant.api.auth import bearer_scheme, require_token
from assistant.api.errors import ApiRoute
from assistant.observability.http import metrics_text
from assistant.observability.settings import ObservabilitySettings

SAME_ORIGIN = {"Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store"}


def observability_router(
    db: Engine,
    stats: Callable[[int | None], dict[str, Any]],
    settings: ObservabilitySettings | None = None,
) -> APIRouter:
    """Return the router of ``/metrics`` and ``/api/stats``; ``stats(days)`` computes the latter."""
    settings = settings or ObservabilitySettings()
    router = APIRouter(route_class=ApiRoute, tags=["observability"])
    authenticated = require_token(db)

    async def metrics_reader(request: Request) -> None:
        """Let the caller read the metrics if they are open or it brings a live token."""
        if not settings.metrics_open:
            await authenticated(await bearer_scheme(request))

    @router.get("/metrics", include_in_schema=False, dependencies=[Depends(metrics_reader)])
    async def metrics() -> Response:
        """Serve the metrics for Prometheus."""
        return Response(metrics_text(), media_type=CONTENT_TYPE_LATEST, headers=SAME_ORIGIN)

    @router.get("/api/stats", dependencies=[Depends(authenticated)])
    async def api_stats(days: int | None = Query(default=None, ge=1)) -> Response:
        """Return the business signals (``flowdraft stats --json``), optionally of the last days."""
        body = await run_in_threadpool(stats, days)
        return Response(json.dumps(body), media_type="application/json", headers=SAME_ORIGIN)

    return router
