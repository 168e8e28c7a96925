"""The overhead bench's run: the same work bare and observed, its spans only when observed."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from assistant.bench.overhead import RunBench, row


async def test_an_observed_bench_run_is_traced_and_a_bare_one_is_not(
    spans: InMemorySpanExporter,
) -> None:
    bench = RunBench()
    await bench.one_run(observed=False)
    assert spans.get_finished_spans() == ()

    await bench.one_run(observed=True)
    names = {s.name for s in spans.get_finished_spans()}
    assert {"POST /hooks", "step s2 slack.post_message", "step s3 tickets.create_ticket"} <= names
    assert any(name.startswith("run ") for name in names)  # the finished run, step by step


def test_a_row_gives_each_observed_mode_as_a_ratio_to_the_bare_work() -> None:
    medians = {"plain": 0.010, "metrics": 0.0105, "metrics+tracing": 0.012}
    assert row(medians) == {
        "median_ms": {"plain": 10.0, "metrics": 10.5, "metrics+tracing": 12.0},
        "ratio": {"metrics": 1.05, "metrics+tracing": 1.2},
    }
