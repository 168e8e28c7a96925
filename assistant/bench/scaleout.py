"""Throughput and p95 latency of tickets and runs with one replica and one worker, then two of each.

Run it as ``python -m assistant.bench.scaleout [--database-url URL] [--events N]``.
It starts a Chroma server and a Temporal engine on loopback (``Shared``), and a throwaway
PostgreSQL unless a URL is given (from the test suite's helper, so from a checkout). Each
configuration gets the same bursts: tickets posted to ``/api/tickets`` (done when their reply
is drafted) and invoice events posted to ``/hooks/{id}`` (done when the run completes), spread
over the replicas. CPU seconds of each process are read from ``/proc`` for the burst.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from assistant.bench.cluster import Process, Shared
from assistant.db.engine import make_engine, session_scope
from assistant.db.tables import HelpdeskTicket, TicketReply
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.runtime import store
from assistant.runtime.activation import activate
from assistant.schemas import WorkflowDraft

TIMEOUT = 300.0
"""Seconds a burst gets to finish."""


def p95(values: list[float]) -> float:
    """Return the 95th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else 0.0


def cpu_seconds(pid: int) -> float:
    """Return the CPU seconds (user + system) process ``pid`` and its waited children used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def invoice_draft() -> WorkflowDraft:
    """Draft the shipped invoice-triage playbook as the offline brain does, checked by policy."""
    from assistant.brain.offline.drafting import draft_from_playbook
    from assistant.policy import PolicyChecker, load_policy
    from assistant.schemas import Slots
    from assistant.settings import Settings
    from knowledge.library import cached_library

    library = cached_library(str(Settings().library))
    playbook = next(doc for doc in library if doc.slug == "invoice-triage")
    goal = "Route vendor invoices above $10k to the CFO for sign-off and post in #finance"
    draft = draft_from_playbook(goal, playbook, Slots(), [], load_policy())
    return PolicyChecker().check(draft).sealed()


def invoice(number: str) -> dict[str, Any]:
    """Return an invoice event under the CFO's threshold: its run needs no person."""
    return {
        "id": number,
        "invoice": {
            "vendor": "Acme Freight",
            "number": number,
            "amount": 4000,
            "currency": "USD",
            "due_date": "2026-12-12",
            "po_number": "PO-7",
            "submitted_by": "ana",
        },
    }


def burst_runs(db: Engine, bases: list[str], events: int) -> dict[str, float]:
    """Post ``events`` invoices over ``bases``; return runs/s and p95 event-to-completed."""
    draft = invoice_draft().model_copy(update={"id": f"wf_{uuid.uuid4().hex[:8]}"}).sealed()
    live = activate(db, draft=draft, approvals=["carla"], owner="ana")
    headers = {"Authorization": f"Bearer {live.hook_token}"}
    sent: dict[str, float] = {}

    def send(n: int) -> None:
        number = f"INV-{uuid.uuid4().hex[:8]}"
        sent[number] = time.time()
        hook = f"{bases[n % len(bases)]}/hooks/{live.automation.id}"
        httpx.post(hook, json=invoice(number), headers=headers, timeout=120).raise_for_status()

    started = time.time()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(events)))
    deadline = time.monotonic() + TIMEOUT
    while True:
        runs = store.list_runs(db, automation_id=live.automation.id, limit=events + 10)
        done = [r for r in runs if r.status == "completed" and r.finished_at]
        if len(done) >= events or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    ends = [r.finished_at.timestamp() for r in done if r.finished_at]
    waits = [end - sent[str(r.event.get("id"))] for r, end in zip(done, ends, strict=True)]
    return {
        "runs": len(done),
        "runs_per_s": len(done) / (max(ends) - started) if ends else 0.0,
        "run_p95_s": p95(waits),
    }


def burst_tickets(db: Engine, bases: list[str], token: str, count: int) -> dict[str, float]:
    """Post ``count`` tickets over ``bases``; return tickets/s and p95 stored-to-drafted."""
    headers = {"Authorization": f"Bearer {token}"}
    tag = uuid.uuid4().hex[:6]

    def send(n: int) -> None:
        ticket = {
            "id": f"B-{tag}-{n}",
            "subject": "Where is my parcel?",
            "body": f"Order {n} has not moved on the tracking page since Monday.",
            "customer": {"email": f"c{n}@customer.example"},
        }
        answer = httpx.post(
            f"{bases[n % len(bases)]}/api/tickets", json=ticket, headers=headers, timeout=120
        )
        answer.raise_for_status()

    started = datetime.now(UTC)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(count)))
    deadline = time.monotonic() + TIMEOUT
    while True:
        with session_scope(db) as session:
            rows = session.exec(
                select(HelpdeskTicket.created_at, TicketReply.drafted_at)
                .join(TicketReply, col(TicketReply.ticket_id) == col(HelpdeskTicket.id))
                .where(col(HelpdeskTicket.external_id).startswith(f"B-{tag}-"))
            ).all()
        if len(rows) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    last = max((drafted for _, drafted in rows), default=started)
    span = (as_utc(last) - started).total_seconds()
    return {
        "tickets": len(rows),
        "tickets_per_s": len(rows) / span if span > 0 else 0.0,
        "ticket_p95_s": p95([(as_utc(d) - as_utc(c)).total_seconds() for c, d in rows]),
    }


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` with a UTC zone (SQLite gives naive times)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def measure(shared: Shared, replicas: int, workers: int, events: int) -> dict[str, Any]:
    """Start ``replicas`` and ``workers``, burst tickets and runs through them, stop them."""
    db = make_engine(shared.database_url)
    started: list[Process] = []
    try:
        for n in range(replicas):
            started.append(shared.replica(f"r{replicas}{workers}-replica-{n + 1}"))
        for n in range(workers):
            started.append(shared.worker(f"r{replicas}{workers}-worker-{n + 1}"))
        bases = [p.base for p in started if p.base]
        _, token = create_token(db, name=f"bench-{uuid.uuid4().hex[:6]}", created_by="bench")
        watched = list(shared.processes)  # the shared Chroma and Temporal too
        cpu_before = {p.name: cpu_seconds(p.popen.pid) for p in watched}
        load_before = time.monotonic()
        figures: dict[str, Any] = {"replicas": replicas, "workers": workers}
        figures |= burst_tickets(db, bases, token, events)
        figures |= burst_runs(db, bases, events)
        elapsed = time.monotonic() - load_before
        figures["cpu"] = {
            p.name.split("-", 1)[-1]: round((cpu_seconds(p.popen.pid) - cpu_before[p.name]), 1)
            for p in watched
        }
        figures["seconds"] = round(elapsed, 1)
        return figures
    finally:
        for process in reversed(started):
            shared.stop(process)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """Yield ``url``, or a throwaway PostgreSQL's when none is given (needs a checkout)."""
    if url:
        yield url
        return
    from tests.support.postgres import postgres_server

    with postgres_server() as started:
        yield started


def run_scaleout_bench(database_url: str | None = None, events: int = 60) -> dict[str, Any]:
    """Measure one replica + one worker, then two + two, on the same shared services."""
    with database(database_url) as url:
        db = make_engine(url)
        for name, roles in (("ana", ["manager"]), ("carla", ["cfo"])):
            add_user(db, name=name, roles=roles)
        with Shared(url) as shared:
            rows = [measure(shared, n, n, events) for n in (1, 2)]
    return {"cores": os.cpu_count(), "load_average": os.getloadavg(), "rows": rows}


def print_table(result: dict[str, Any]) -> None:
    """Print the figures as a table with the two-to-one ratios."""
    load = ", ".join(f"{v:.2f}" for v in result["load_average"])
    print(f"cores: {result['cores']}   load average after: {load}")
    keys = ["tickets_per_s", "ticket_p95_s", "runs_per_s", "run_p95_s"]
    print(f"{'replicas+workers':<18}" + "".join(f"{k:>15}" for k in keys))
    one, two = result["rows"]
    for row in (one, two):
        label = f"{row['replicas']}+{row['workers']}"
        print(f"{label:<18}" + "".join(f"{row[k]:>15.2f}" for k in keys))
    ratios = [two[k] / one[k] if one[k] else 0.0 for k in keys]
    print(f"{'ratio 2/1':<18}" + "".join(f"{r:>15.2f}" for r in ratios))
    for row in (one, two):
        cpu = ", ".join(f"{name} {sec}s" for name, sec in row["cpu"].items())
        print(
            f"CPU during the {row['seconds']}s bursts ({row['replicas']}+{row['workers']}): {cpu}"
        )


def main() -> None:
    """Run the benchmark from the command line and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--events", type=int, default=60, help="Tickets and events per burst.")
    args = parser.parse_args()
    print_table(run_scaleout_bench(args.database_url, args.events))


if __name__ == "__main__":
    main()
