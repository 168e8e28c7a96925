"""Measure reply drafting through the API: tickets/s and latency, against drafting in-process.

A real `flowdraft serve` process takes ``count`` tickets (the eval's tickets, with fresh
ids) from ``clients`` concurrent API callers and drafts each in the background. Latency is
the server's own clock: ticket stored → reply drafted, measured for a few tickets sent
one at a time (no queue) and for the burst (queueing included). The baseline drafts the same tickets
one by one in this process, with no server, database queue or graph in between.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from assistant.db.audit import as_utc
from assistant.db.engine import make_engine, session_scope
from assistant.db.tables import HelpdeskTicket, TicketReply
from assistant.db.tokens import create_token
from assistant.evaluation.runner import load_cases
from assistant.schemas import Ticket
from assistant.services import build_services
from assistant.settings import Settings
from assistant.support import draft_ticket_reply
from assistant.web.process import ServerProcess

IDLE_TICKETS = 6


def bench_tickets(count: int) -> list[dict[str, Any]]:
    """Return ``count`` tickets cycled from the eval cases, each with its own id."""
    _, cases = load_cases(None)
    out = []
    for number in range(count):
        ticket = dict(cases[number % len(cases)]["ticket"])
        out.append({**ticket, "id": f"bench-{number}"})
    return out


def drafted_latencies(url: str, count: int, timeout: float = 300) -> list[float]:
    """Wait until ``count`` replies are drafted; return each one's stored → drafted seconds."""
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                pairs = session.exec(
                    select(HelpdeskTicket.created_at, TicketReply.drafted_at).where(
                        TicketReply.ticket_id == HelpdeskTicket.id
                    )
                ).all()
            if len(pairs) >= count:
                return [(as_utc(d) - as_utc(c)).total_seconds() for c, d in pairs]
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise RuntimeError(f"only {len(pairs)} of {count} tickets were drafted in {timeout:.0f} s")


async def in_process(home: Path, tickets: list[dict[str, Any]]) -> float:
    """Return the seconds the same drafting takes one by one in this process."""
    services = build_services(Settings(home=home))
    started = time.perf_counter()
    for item in tickets:
        await draft_ticket_reply(services, Ticket.model_validate(item))
    return time.perf_counter() - started


def run_ticket_timing(count: int = 200, clients: int = 8) -> dict[str, Any]:
    """Start a server, post ``count`` tickets from ``clients`` callers, and time the drafts."""
    tickets = bench_tickets(count + IDLE_TICKETS)
    warmup, tickets = tickets[:IDLE_TICKETS], tickets[IDLE_TICKETS:]
    with tempfile.TemporaryDirectory(prefix="flowdraft-ticketbench-") as tmp:
        home = Path(tmp) / "server"
        settings = Settings(home=home)
        settings.ensure_home()
        engine = make_engine(settings.database_url)
        _, token = create_token(engine, name="bench")
        engine.dispose()
        server = ServerProcess(home)
        server.start(timeout=120)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:

                def post(item: dict[str, Any]) -> float:
                    started = time.perf_counter()
                    answer = client.post("/api/tickets", json=item)
                    if answer.status_code != 202:
                        raise RuntimeError(f"{answer.status_code}: {answer.text[:200]}")
                    return time.perf_counter() - started

                # One at a time first: the latency of a ticket that does not queue.
                for number, item in enumerate(warmup):
                    post(item)
                    idle = drafted_latencies(settings.database_url, number + 1)
                began = time.perf_counter()
                with ThreadPoolExecutor(clients) as pool:
                    accepted = list(pool.map(post, tickets))
                posted = time.perf_counter() - began
                latencies = drafted_latencies(settings.database_url, count + len(warmup))
                latencies = latencies[len(warmup) :]
                total = time.perf_counter() - began
        finally:
            server.stop()
        alone = asyncio.run(in_process(Path(tmp) / "alone", tickets))
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return {
        "tickets": count,
        "clients": clients,
        "api_accept_p50_ms": round(statistics.median(accepted) * 1000, 1),
        "all_posted_s": round(posted, 2),
        "throughput_tickets_per_s": round(count / total, 1),
        "idle_draft_latency_p50_ms": round(statistics.median(idle[1:]) * 1000, 1),
        "draft_latency_p50_s": round(statistics.median(latencies), 3),
        "draft_latency_p95_s": round(p95, 3),
        "in_process_tickets_per_s": round(count / alone, 1),
        "ratio_in_process_to_api": round((count / alone) / (count / total), 2),
    }
