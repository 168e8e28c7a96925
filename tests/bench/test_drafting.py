"""The benchmark runs and reports every figure (no timing is asserted)."""

from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console

from assistant.bench.drafting import noop_overrides, print_benchmark, run_benchmark
from assistant.schemas import ReviewResponse
from assistant.services import Services
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner
from tests.conftest import collect, of_type


async def test_benchmark_reports_all_figures() -> None:
    console = Console(record=True, width=120)
    result = await run_benchmark(chunks=100, turns=3, console=console)
    assert result["chunks_in_store"] > 100
    for key in (
        "draft_turn",
        "draft_turn_noop_floor",
        "retrieval",
        "resume_to_activate",
        "resume_to_activate_noop_floor",
    ):
        assert result[key]["p50_ms"] > 0 and result[key]["p95_ms"] >= result[key]["p50_ms"]
    assert result["activate_ratio_to_floor"] > 0
    assert result["ingest"]["unchanged_reingest_written"] == 0
    print_benchmark(result, console)
    printed = console.export_text()
    assert "chunks/s" in printed
    assert "resume->activate" in printed


async def test_the_noop_floor_resumes_through_activation_to_the_end(services: Services) -> None:
    noop = ChatRunner(
        build_chat_graph(InMemorySaver(), overrides=noop_overrides()), services.context()
    )
    await collect(noop.send_text("floor", "anything", "bench"))
    assert await noop.pending_review("floor") is not None

    events = await collect(
        noop.send_decision("floor", ReviewResponse(type="accept", user="bench"), progress=True)
    )

    assert "activate" in {e["node"] for e in of_type(events, "progress")}
    assert not of_type(events, "review")
    assert await noop.pending_review("floor") is None
