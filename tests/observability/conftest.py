"""Spans recorded in memory, and metrics read the way Prometheus reads them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from assistant.observability.tracing import record_spans_to, stop_recording


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Record spans in memory for the test; return the exporter."""
    exporter = InMemorySpanExporter()
    record_spans_to(exporter)
    yield exporter
    stop_recording()


def named(found: tuple[ReadableSpan, ...] | list[ReadableSpan], name: str) -> list[ReadableSpan]:
    """Return the spans called ``name``."""
    return [s for s in found if s.name == name]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse Prometheus text into ``{(sample name, sorted labels): value}``."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(parsed: dict, name: str, **labels: str) -> float:
    """Return one sample's value (0 when the series does not exist yet)."""
    return parsed.get((name, tuple(sorted(labels.items()))), 0.0)
