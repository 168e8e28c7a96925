"""JSON-lines logs (``FLOWDRAFT_LOG_FORMAT=json``), each line with its trace and run ids."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from temporalio import activity


def current_ids() -> dict[str, str]:
    """Return the ids of what is running now: trace and span, and the run in an activity."""
    ids: dict[str, str] = {}
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        ids["trace_id"] = trace.format_trace_id(context.trace_id)
        ids["span_id"] = trace.format_span_id(context.span_id)
    if activity.in_activity():
        ids["run_id"] = activity.info().workflow_id or ""
    return ids


class JsonLogFormatter(logging.Formatter):
    """Format each record as one JSON object: time, level, logger, message, ids."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **current_ids(),
        }
        run_id = getattr(record, "run_id", None)
        if run_id:
            line["run_id"] = str(run_id)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_log_format(env: Mapping[str, str] | None = None) -> bool:
    """Switch the root logger's handlers to JSON lines if asked; return whether it did."""
    env = os.environ if env is None else env
    if env.get("FLOWDRAFT_LOG_FORMAT", "").strip().lower() != "json":
        return False
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        handler.setFormatter(JsonLogFormatter())
    return True
