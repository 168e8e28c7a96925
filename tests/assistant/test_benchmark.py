"""The benchmark runs and reports every figure (no timing is asserted)."""

from rich.console import Console

from assistant.benchmark import print_benchmark, run_benchmark


async def test_benchmark_reports_all_figures() -> None:
    console = Console(record=True, width=120)
    result = await run_benchmark(chunks=100, turns=3, console=console)
    assert result["chunks_in_store"] > 100
    for key in ("draft_turn", "draft_turn_noop_floor", "retrieval", "resume_to_dispatch"):
        assert result[key]["p50_ms"] > 0 and result[key]["p95_ms"] >= result[key]["p50_ms"]
    assert result["ingest"]["unchanged_reingest_written"] == 0
    print_benchmark(result, console)
    assert "chunks/s" in console.export_text()
