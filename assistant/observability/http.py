"""Serve this process's metrics: Prometheus text for the app's ``/metrics`` route
(``assistant.api.observability``) and a port of their own for ``flowdraft worker``."""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY, generate_latest

from assistant.observability.settings import ObservabilitySettings

log = logging.getLogger(__name__)


def metrics_text() -> bytes:
    """Return every metric of this process in Prometheus' text format."""
    return generate_latest(REGISTRY)


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
