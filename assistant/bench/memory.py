"""Measure the resident memory of `flowdraft serve` (with its embedded Temporal dev server)
idle and after many automation runs, on a fresh home.

Memory is the sum of the server process and its children (the dev server), read from
``/proc`` (Linux). Runs are started through ``POST /api/runs`` by a few concurrent API
clients; each has a few actions (sandboxed Slack posts) and no sign-off, so it finishes
on its own.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from assistant.bench.runs import ACTIONS, bench_automation, resident_mib
from assistant.db.engine import make_engine
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.runtime.store import list_runs, save_automation
from assistant.schemas import Step, WorkflowDraft
from assistant.web.process import ServerProcess, free_port

OWNER = "mia"


def tree_mib(pid: int) -> dict[str, float]:
    """Return resident MiB of ``pid`` and of all its descendants (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        children.setdefault(int(fields["PPid"].strip()), []).append(int(status.parent.name))
    below, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        below.append(child)
        todo += children.get(child, [])
    server = resident_mib(pid)
    others = sum(resident_mib(child) for child in below)
    return {"server_mib": round(server, 1), "children_mib": round(others, 1)}


def unattended_draft() -> WorkflowDraft:
    """Return a workflow of a few sandboxed Slack posts and no sign-off."""
    post = {"channel": "#ops", "text": "event {{n}}"}
    steps = [
        Step(
            id=f"a{i}",
            title="post",
            kind="action",
            connector="slack",
            operation="post_message",
            params=post,
        )
        for i in range(ACTIONS)
    ]
    return WorkflowDraft(title="memory", goal="memory", steps=steps).sealed()


def settle(engine: Any, automation_id: str, count: int, timeout: float) -> int:
    """Wait until ``count`` runs of ``automation_id`` have ended; return how many did."""
    deadline = time.monotonic() + timeout
    ended = 0
    while time.monotonic() < deadline:
        runs = list_runs(engine, automation_id=automation_id, limit=count + 10)
        ended = sum(
            1 for run in runs if run.status in ("completed", "failed", "rejected", "cancelled")
        )
        if ended >= count:
            break
        time.sleep(0.5)
    return ended


def run_memory_timing(runs: int = 1000, clients: int = 4, timeout: float = 900) -> dict[str, Any]:
    """Start a server on a fresh home; return its memory idle and after ``runs`` runs."""
    with tempfile.TemporaryDirectory(prefix="flowdraft-memory-") as tmp:
        home = Path(tmp)
        engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
        add_user(engine, name=OWNER, roles=["admin", "manager"])
        _, token = create_token(engine, name="memory-bench", owner=OWNER)
        draft = unattended_draft()
        automation = bench_automation(draft)
        env = {
            "FLOWDRAFT_TEMPORAL_ENABLED": "true",
            "FLOWDRAFT_TEMPORAL_PORT": str(free_port()),
            "FLOWDRAFT_TEMPORAL_UI_PORT": str(free_port()),
        }
        server = ServerProcess(home, env=env)
        server.start(timeout=180)
        try:
            save_automation(engine, automation=automation, draft=draft)
            assert server.proc is not None
            time.sleep(5)  # let the dev server and worker finish starting before "idle"
            idle = tree_mib(server.proc.pid)
            headers = {"Authorization": f"Bearer {token}"}
            started = time.perf_counter()

            def start(n: int) -> int:
                answer = httpx.post(
                    f"{server.base}/api/runs",
                    json={"automation": automation.id, "event": {"n": n}},
                    headers=headers,
                    timeout=60,
                )
                return answer.status_code

            with ThreadPoolExecutor(clients) as pool:
                codes = list(pool.map(start, range(runs)))
            ended = settle(engine, automation.id, runs, timeout)
            seconds = time.perf_counter() - started
            after = tree_mib(server.proc.pid)
        finally:
            server.stop()
    return {
        "runs": runs,
        "runs_accepted": sum(1 for code in codes if code in (200, 202)),
        "runs_ended": ended,
        "seconds": round(seconds, 1),
        "idle": {**idle, "total_mib": round(sum(idle.values()), 1)},
        "after_runs": {**after, "total_mib": round(sum(after.values()), 1)},
    }
