"""``GET /metrics`` (Prometheus text) and ``GET /api/stats`` (the business signals as JSON).

Both need an API token (``Authorization: Bearer``, from ``flowdraft tokens create``):
metrics name automations and show how busy the product is, which is nobody's business
outside. ``FLOWDRAFT_METRICS_OPEN=true`` lets a scraper on a private network read
``/metrics`` without one. Neither answer may be read by another site's scripts: no CORS
header is added here and ``Cross-Origin-Resource-Policy: same-origin`` is set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from assistant.api.auth import bearer_scheme, require_token
from assistant.api.errors import ApiRoute
from assistant.observability.settings import ObservabilitySettings

log = logging.getLogger(__name__)

SAME_ORIGIN = {"Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store"}


def metrics_text() -> bytes:
    """Return every metric of this process in Prometheus' text format."""
    return generate_latest(REGISTRY)


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


def serve_worker_metrics(settings: ObservabilitySettings | None = None) -> str | None:
    """Serve this process's metrics on the configured port; return their URL (None: off)."""
    from prometheus_client import start_http_server

    settings = settings or ObservabilitySettings()
    if not settings.worker_metrics_port:
        return None
    try:
        start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
    except OSError as exc:
        # Another worker on this machine has the port: runs matter more than its metrics.
        log.warning(
            "worker metrics not served on port %s (%s): set FLOWDRAFT_WORKER_METRICS_PORT "
            "to a free port, or 0 for none",
            settings.worker_metrics_port,
            exc.strerror or exc,
        )
        return None
    return f"http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics"
