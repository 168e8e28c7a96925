"""JSON-lines logs carry the trace, span and run ids of what logged."""

from __future__ import annotations

import io
import json
import logging

from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from assistant.observability.logs import use_log_format
from assistant.observability.tracing import tracer


def test_json_logs_name_the_trace_and_the_run(spans: InMemorySpanExporter) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    kept = {h: h.formatter for h in root.handlers}
    try:
        assert not use_log_format({})
        assert use_log_format({"FLOWDRAFT_LOG_FORMAT": "json"})
        log = logging.getLogger("flowdraft.test")
        with tracer().start_as_current_span("work") as span:
            log.warning("step %s failed", "s2", extra={"run_id": "auto_1.e1"})
        log.warning("outside")
    finally:
        root.removeHandler(handler)
        for h, formatter in kept.items():
            h.setFormatter(formatter)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "step s2 failed" and inside["level"] == "warning"
    assert inside["trace_id"] == trace.format_trace_id(span.get_span_context().trace_id)
    assert inside["run_id"] == "auto_1.e1" and inside["logger"] == "flowdraft.test"
    assert "trace_id" not in outside and outside["message"] == "outside"
