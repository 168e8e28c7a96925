"""Measure what metrics and tracing cost a draft turn, against the same turn without them.

Run ``python -m assistant.observability.overhead [TURNS]``. In one process and one run,
the same draft turns go through the plain chat graph, the observed graph with tracing off
(the default: metrics only) and the observed graph exporting its spans, interleaved in a
rotating order so that a slower moment of the machine hits all three alike. Prints the
medians and the ratios.

Spans are sampled as ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` say (all of
them by default), so the cost of a sampling ratio can be measured the same way.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from assistant.observability.tracing import record_spans_to, use_provider
from assistant.observability.turns import ObservedGraph
from assistant.services import build_services
from assistant.settings import Settings
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner

GOAL = "Route vendor invoices above $10k to the CFO for sign-off and post a note in #finance"


async def one_turn(runner: ChatRunner, thread: str) -> float:
    """Return the seconds one draft turn takes."""
    started = time.perf_counter()
    async for _ in runner.send_text(thread, GOAL, "ana"):
        pass
    return time.perf_counter() - started


async def measure(turns: int) -> dict[str, Any]:
    """Time ``turns`` draft turns in each mode, interleaved; return medians and ratios."""
    home = Path(tempfile.mkdtemp(prefix="flowdraft-overhead-"))
    services = build_services(Settings(home=home))
    plain = ChatRunner(build_chat_graph(InMemorySaver()), services.context())
    observed = ChatRunner(ObservedGraph(build_chat_graph(InMemorySaver())), services.context())
    exporter = InMemorySpanExporter()
    provider = record_spans_to(exporter, batch=True)  # batched, as spans go to a collector
    timings: dict[str, list[float]] = {"plain": [], "metrics": [], "metrics+tracing": []}
    for n in range(turns + 5):  # the first five warm caches up and are not counted
        runs = {
            "plain": (plain, False),
            "metrics": (observed, False),
            "metrics+tracing": (observed, True),
        }
        order = list(runs)
        # Each mode goes first as often as the others: whoever goes first pays more.
        for mode in order[n % 3 :] + order[: n % 3]:
            runner, tracing = runs[mode]
            use_provider(provider if tracing else None)
            took = await one_turn(runner, f"{mode}-{n}")
            exporter.clear()
            if n >= 5:
                timings[mode].append(took)
    use_provider(None)
    provider.shutdown()
    medians = {mode: statistics.median(values) for mode, values in timings.items()}
    return {
        "turns": turns,
        "median_ms": {mode: round(value * 1000, 2) for mode, value in medians.items()},
        "ratio": {
            mode: round(medians[mode] / medians["plain"], 3)
            for mode in ("metrics", "metrics+tracing")
        },
    }


def main() -> None:
    """Print the measurement as JSON."""
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    print(json.dumps(asyncio.run(measure(turns)), indent=2))


if __name__ == "__main__":
    main()
