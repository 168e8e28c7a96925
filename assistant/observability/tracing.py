"""OpenTelemetry tracing: off by default, set up from the standard ``OTEL_*`` variables.

Tracing is on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set, or
``FLOWDRAFT_TRACING`` is ``otlp``/``true``/``1`` (OTLP over HTTP, to the SDK's default
``http://localhost:4318`` unless an endpoint is set) or ``console`` (spans printed on
stderr). ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set. The exporter, the
batch processor, the service name and resource attributes all read their usual ``OTEL_*``
variables, so a collector is configured the way every other OpenTelemetry program is.

While tracing is off the global tracer provider stays OpenTelemetry's no-op one: every
span the code starts is a non-recording one, which costs next to nothing.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

if TYPE_CHECKING:
    from temporalio.client import Interceptor

log = logging.getLogger(__name__)

TRACER_NAME = "flowdraft"
ON = ("1", "true", "yes", "on", "otlp")

_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None
"""The tracer of ``_provider``, made once: the SDK builds a new one on every ask."""


def tracing_requested(env: Mapping[str, str] | None = None) -> str | None:
    """Return the exporter the environment asks for (``otlp`` or ``console``), or None."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    wanted = env.get("FLOWDRAFT_TRACING", "").strip().lower()
    if wanted == "console":
        return "console"
    if wanted in ON:
        return "otlp"
    if wanted in ("0", "false", "no", "off"):
        return None
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return "otlp"
    return None


def setup_tracing(
    service: str = "flowdraft", *, env: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """Install the process's tracer provider if tracing is asked for; return it (or None).

    Idempotent: a process sets up its tracing once, at the start.
    """
    global _provider
    env = os.environ if env is None else env
    kind = tracing_requested(env)
    if kind is None or _provider is not None:
        return _provider if kind else None
    name = env.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if kind == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # No arguments: the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, headers,
        # timeout and compression itself.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        log.info("tracing: spans go to %s", otlp_target(env))
    use_provider(provider)
    # Global too, so that libraries instrumented with OpenTelemetry join the same traces.
    trace.set_tracer_provider(provider)
    langsmith_note(env)
    return provider


def record_spans_to(exporter: SpanExporter, *, batch: bool = False) -> TracerProvider:
    """Record this process's spans to ``exporter`` until ``stop_recording`` (tests, benchmarks).

    Unlike ``setup_tracing`` this leaves OpenTelemetry's global provider alone, which a
    process may set only once, so recording can start and stop.
    """
    provider = TracerProvider()
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    use_provider(provider)
    return provider


def use_provider(provider: TracerProvider | None) -> None:
    """Make ``provider`` the one Flowdraft records with (None: record nothing)."""
    global _provider, _tracer
    _provider = provider
    _tracer = provider.get_tracer(TRACER_NAME) if provider is not None else None


def stop_recording() -> None:
    """Stop recording spans (after ``record_spans_to``)."""
    if _provider is not None:
        _provider.shutdown()
    use_provider(None)


def otlp_target(env: Mapping[str, str] | None = None) -> str:
    """Return where OTLP/HTTP spans are sent, as the exporter will resolve it."""
    env = os.environ if env is None else env
    traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if traces:
        return traces
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")
    return base.rstrip("/") + "/v1/traces"


def langsmith_note(env: Mapping[str, str] | None = None) -> None:
    """Log that LangSmith traces the graph too, when its variables are set.

    LangChain's own tracer reads ``LANGSMITH_TRACING`` and ``LANGSMITH_API_KEY`` and sends
    each graph run there with no code of ours; nothing is sent without them.
    """
    env = os.environ if env is None else env
    if env.get("LANGSMITH_TRACING", "").lower() == "true" and env.get("LANGSMITH_API_KEY"):
        log.info("tracing: LangSmith also records each graph run (LANGSMITH_TRACING is set)")


def tracing_on() -> bool:
    """Tell whether this process records spans."""
    return _provider is not None


def tracer() -> trace.Tracer:
    """Return Flowdraft's tracer (a no-op one while tracing is off)."""
    if _tracer is not None:
        return _tracer
    return trace.get_tracer(TRACER_NAME)


def trace_headers() -> dict[str, str]:
    """Return the W3C ``traceparent`` (and ``tracestate``) of the current span, if any.

    Example:
        >>> trace_headers()  # outside any recorded span
        {}
    """
    if not trace.get_current_span().get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def temporal_interceptors() -> list[Interceptor]:
    """Return the interceptors that carry trace context through Temporal (none when off).

    Set on the client, they also apply to every worker built from it: a run started
    inside a chat turn or an API call continues that trace on whichever worker runs it.
    """
    if not tracing_on():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    # Runs a schedule starts have no client span; their workflow spans are still made.
    return [TracingInterceptor(tracer(), always_create_workflow_spans=True)]
