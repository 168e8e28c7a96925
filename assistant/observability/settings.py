"""Settings of metrics exposure and drift alerts (env prefix ``FLOWDRAFT_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ObservabilitySettings(BaseSettings):
    """Where metrics are served and who may read them; where drift alerts go."""

    model_config = SettingsConfigDict(env_prefix="FLOWDRAFT_", env_file=".env", extra="ignore")

    metrics_open: bool = False
    """Serve ``GET /metrics`` without an API token (for a scraper on a private network)."""
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    """Port ``flowdraft worker`` serves its own ``/metrics`` on; 0 serves none."""
    worker_metrics_host: str = "127.0.0.1"
    """Interface of the worker's metrics port (``0.0.0.0`` to let a scraper on another host in)."""
    drift_channel: str = ""
    """Slack channel drift alerts are posted to (e.g. ``#flowdraft-ops``); empty: log only."""
    drift_threshold: float = Field(default=0.15, gt=0, le=1)
    """How far this week's mean confidence or intent mix may move before an alert."""
