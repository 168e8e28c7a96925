"""Benchmark: draft turns and activation against a no-op graph floor, and ingestion throughput.

Everything is measured in one run on one machine, so the ratios hold on a noisy host even
when the absolute numbers move. Nothing here asserts a time: it prints numbers.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.types import interrupt
from rich.console import Console
from rich.table import Table

from assistant.schemas import ReviewResponse
from assistant.services import build_services
from assistant.settings import Settings
from graphs.chat import build_chat_graph
from graphs.checkpoints import sqlite_checkpointer
from graphs.runner import ChatRunner

GOALS = [
    "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance",
    "When a new hire is marked hired in Workday, create their accounts and post in #it",
    "Route incoming support tickets to billing or tech, urgent ones to #support-escalations",
    "Refunds above $200 need the support lead to approve; email refunds@northwind.example",
    "Page on-call when the API is down and post updates in #incidents every 30 minutes",
]
WORDS = [
    "invoice",
    "vendor",
    "approval",
    "refund",
    "customer",
    "policy",
    "ticket",
    "escalation",
    "onboarding",
    "contract",
    "review",
    "payment",
    "threshold",
    "manager",
    "controller",
    "finance",
    "shipping",
    "warranty",
    "account",
    "access",
    "security",
    "incident",
    "outage",
    "report",
    "schedule",
    "channel",
    "summary",
    "request",
    "process",
    "team",
]


def percentile(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of ``values`` in milliseconds."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index] * 1000


def summary(values: list[float]) -> dict[str, float]:
    """Return p50 and p95 in milliseconds."""
    return {
        "p50_ms": round(percentile(values, 0.5), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
    }


def write_synthetic(folder: Path, chunks: int, seed: int = 7) -> int:
    """Write markdown files holding about ``chunks`` chunks of business-like prose."""
    rng = random.Random(seed)
    per_file = 10
    files = max(1, chunks // per_file)
    for n in range(files):
        paragraphs = []
        for _ in range(per_file):
            sentences = [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                for _ in range(12)
            ]
            paragraphs.append(" ".join(sentences))
        body = "\n\n".join(paragraphs)
        (folder / f"synthetic-{n:05d}.md").write_text(
            f"---\ntitle: Synthetic note {n}\nkind: doc\n---\n\n{body}\n"
        )
    return files


async def timed(stream: Any) -> float:
    """Return how long consuming the event ``stream`` takes, in seconds."""
    started = time.perf_counter()
    await drain(stream)
    return time.perf_counter() - started


def noop_overrides() -> dict[str, Callable[..., Any]]:
    """Return no-op nodes that walk the same path as a draft turn and an activation."""

    async def capture_intent(state: dict[str, Any]) -> dict[str, Any]:
        return {"intent": {"kind": "automate"}, "message": None, "decision": None}

    async def passthrough(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def approve(state: dict[str, Any]) -> dict[str, Any]:
        # Complete, so the floor goes on to activate as an approved draft does.
        return {"approval_complete": True}

    async def review(state: dict[str, Any]) -> dict[str, Any]:
        return {
            "decision": interrupt(
                {"action_request": {"action": "noop", "args": {}}, "description": ""}
            )
        }

    return {
        "capture_intent": capture_intent,
        "retrieve_context": passthrough,
        "draft_workflow": passthrough,
        "check_policy": passthrough,
        "review": review,
        "approve": approve,
        "activate": passthrough,
    }


async def drain(stream: Any) -> None:
    """Consume an event stream."""
    async for _ in stream:
        pass


async def measure_turns(
    runner: ChatRunner, turns: int, prefix: str
) -> tuple[list[float], list[float]]:
    """Time ``turns`` draft turns and their resume -> activate, one new thread each."""
    drafts, activations = [], []
    for i in range(turns + 3):
        thread = f"{prefix}-{i}"
        goal = GOALS[i % len(GOALS)]
        draft_time = await timed(runner.send_text(thread, goal, "bench"))
        accept = ReviewResponse(type="accept", user="bench")
        activate_time = await timed(runner.send_decision(thread, accept))
        if i >= 3:  # the first turns warm caches
            drafts.append(draft_time)
            activations.append(activate_time)
    return drafts, activations


async def run_benchmark(
    *, chunks: int = 10_000, turns: int = 30, console: Console
) -> dict[str, Any]:
    """Run the whole benchmark in a temporary home and return its figures."""
    with tempfile.TemporaryDirectory(prefix="flowdraft-bench-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home / "home")
        console.print("[dim]building services and ingesting the shipped library…[/]")
        services = build_services(settings, ingest=False)
        library_report = services.ingest_library()
        synthetic = home / "synthetic"
        synthetic.mkdir()
        write_synthetic(synthetic, chunks)
        console.print(f"[dim]ingesting ~{chunks:,} synthetic chunks…[/]")
        report = services.ingestor.ingest(synthetic, root_key="synthetic")
        again = services.ingestor.ingest(synthetic, root_key="synthetic")
        retrieval = []
        for i in range(turns):
            started = time.perf_counter()
            services.retriever.with_documents(
                services.retriever.search(GOALS[i % len(GOALS)], kinds=["playbook", "policy"], k=4),
                top=2,
            )
            retrieval.append(time.perf_counter() - started)
        console.print(f"[dim]measuring {turns} turns of the real graph and of the no-op graph…[/]")
        async with sqlite_checkpointer(settings.checkpoint_path) as saver:
            real = ChatRunner(build_chat_graph(saver), services.context())
            noop = ChatRunner(
                build_chat_graph(saver, overrides=noop_overrides()), services.context()
            )
            floor_draft, floor_activate = await measure_turns(noop, turns, "noop")
            real_draft, real_activate = await measure_turns(real, turns, "real")
        floor_plus = statistics.median(floor_draft) + statistics.median(retrieval)
        return {
            "chunks_in_store": services.retriever.count(),
            "draft_turn": summary(real_draft),
            "draft_turn_noop_floor": summary(floor_draft),
            "retrieval": summary(retrieval),
            "draft_ratio_to_floor_plus_retrieval": round(
                statistics.median(real_draft) / floor_plus, 2
            ),
            "resume_to_activate": summary(real_activate),
            "resume_to_activate_noop_floor": summary(floor_activate),
            "activate_ratio_to_floor": round(
                statistics.median(real_activate) / statistics.median(floor_activate), 2
            ),
            "ingest": {
                "chunks": report.added,
                "seconds": round(report.seconds, 2),
                "chunks_per_second": round(report.added / report.seconds)
                if report.seconds
                else None,
                "unchanged_reingest_seconds": round(again.seconds, 3),
                "unchanged_reingest_written": again.chunks_written,
                "library_seconds": round(library_report.seconds, 2),
            },
        }


def print_benchmark(result: dict[str, Any], console: Console) -> None:
    """Print the benchmark figures as a table."""
    table = Table(title=f"Flowdraft benchmark ({result['chunks_in_store']:,} chunks in store)")
    table.add_column("measure")
    table.add_column("p50 ms")
    table.add_column("p95 ms")
    for key in (
        "draft_turn",
        "draft_turn_noop_floor",
        "retrieval",
        "resume_to_activate",
        "resume_to_activate_noop_floor",
    ):
        table.add_row(key.replace("_", " "), str(result[key]["p50_ms"]), str(result[key]["p95_ms"]))
    console.print(table)
    console.print(
        f"draft turn / (no-op floor + retrieval): {result['draft_ratio_to_floor_plus_retrieval']}x"
        f"   resume->activate / no-op floor: {result['activate_ratio_to_floor']}x"
    )
    ingest = result["ingest"]
    console.print(
        f"ingestion: {ingest['chunks']:,} chunks in {ingest['seconds']}s = "
        f"{ingest['chunks_per_second']:,} chunks/s; unchanged re-ingest "
        f"{ingest['unchanged_reingest_seconds']}s ({ingest['unchanged_reingest_written']} written)"
    )
