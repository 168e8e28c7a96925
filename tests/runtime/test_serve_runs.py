"""A real ``flowdraft serve`` with its embedded Temporal runs the invoice automation end to end.

Events arrive at the hook, the run waits for the CFO, and the CLI (another process, the same
home) sees and decides it through the engine the server started.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.runtime.activation import activate
from assistant.web.process import ServerProcess, free_port
from tests.runtime.conftest import invoice, invoice_draft

pytestmark = pytest.mark.integration

PEOPLE = {"ana": ["finance"], "carla": ["cfo"], "erin": ["ceo"], "dan": ["controller"]}
SETTLE = 30.0
"""Seconds a run gets to reach the state a step of the test waits for."""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Return the data folder the server and the CLI share, with the finance team in it."""
    home = tmp_path / "home"
    home.mkdir()
    db = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    for name, roles in PEOPLE.items():
        add_user(db, name=name, roles=roles)
    return home


@pytest.fixture
def engine_env() -> dict[str, str]:
    """Return the settings of an embedded engine on free loopback ports."""
    return {
        "FLOWDRAFT_TEMPORAL_ENABLED": "true",
        "FLOWDRAFT_TEMPORAL_PORT": str(free_port()),
        "FLOWDRAFT_TEMPORAL_HTTP_PORT": str(free_port()),
        "FLOWDRAFT_TEMPORAL_METRICS_PORT": str(free_port()),
        "FLOWDRAFT_TEMPORAL_UI_PORT": str(free_port()),
        "FLOWDRAFT_TEMPORAL_UI": "false",
    }


@pytest.fixture
def server(home: Path, engine_env: dict[str, str]) -> Iterator[ServerProcess]:
    """Run ``flowdraft serve`` with the embedded engine."""
    process = ServerProcess(home, env=engine_env)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def cli(home: Path, env: dict[str, str], *args: str, code: int = 0) -> dict[str, Any]:
    """Run ``flowdraft ARGS`` in another process on ``home``; return its JSON output."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env={**os.environ, **env, "FLOWDRAFT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == code, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def eventually(read: Callable[[], dict[str, Any]], holds: Callable[[dict[str, Any]], bool]) -> Any:
    """Return ``read()`` once ``holds`` is true of it; fail after ``SETTLE`` seconds."""
    deadline = time.monotonic() + SETTLE
    while True:
        value = read()
        if holds(value):
            return value
        assert time.monotonic() < deadline, f"still {value}"
        time.sleep(0.2)


def test_a_hook_event_waits_for_the_cfo_who_decides_it_from_the_cli(
    home: Path, engine_env: dict[str, str], server: ServerProcess
) -> None:
    db = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    live = activate(db, draft=invoice_draft(), approvals=["carla"], owner="ana")
    hook = f"{server.base}/hooks/{live.automation.id}"
    headers = {"Authorization": f"Bearer {live.hook_token}"}
    event = invoice(50_000, event_id="INV-204")

    first = httpx.post(hook, json=event, headers=headers, timeout=30)
    again = httpx.post(hook, json=event, headers=headers, timeout=30)
    assert first.status_code == 202, first.text
    assert again.status_code == 200 and again.json() == first.json()
    run_id = first.json()["run"]

    inbox = eventually(
        lambda: cli(home, engine_env, "inbox", "--as", "carla", "--json"),
        lambda out: bool(out["items"]),
    )
    [item] = inbox["items"]
    assert (item["run_id"], item["approver_role"]) == (run_id, "cfo")
    assert "50000" in item["request"]["description"]
    shown = cli(home, engine_env, "runs", "show", run_id, "--json")["run"]
    assert shown["status"] == "waiting"

    refused = cli(
        home, engine_env, "inbox", "decide", item["id"], "accept", "--as", "dan", "--json", code=1
    )
    assert refused["ok"] is False and "carla" in refused["message"]
    accepted = cli(
        home, engine_env, "inbox", "decide", item["id"], "accept", "--as", "carla", "--json"
    )
    assert accepted["ok"] is True, accepted

    run = eventually(
        lambda: cli(home, engine_env, "runs", "show", run_id, "--json")["run"],
        lambda run: run["status"] != "waiting" and run["status"] != "running",
    )
    assert run["status"] == "completed", run
    steps = {step["step_id"]: step for step in run["steps"]}
    assert steps["s1"]["input"]["payload"] == {"vendor": "Acme Freight", "amount": 50000}
    assert (
        steps["s6"]["input"]["text"] == "Invoice INV-204 from Acme Freight for 50000 USD is logged."
    )
    assert steps["s3"]["status"] == "ok" and "carla" in steps["s3"]["detail"]
    assert cli(home, engine_env, "inbox", "--as", "carla", "--json") == {"items": []}


def chat(home: Path, env: dict[str, str], *lines: dict[str, Any]) -> list[dict[str, Any]]:
    """Send ``lines`` to ``flowdraft chat --json`` in another process; return its events."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "chat", "--json"],
        input="".join(json.dumps(line) + "\n" for line in lines),
        env={**os.environ, **env, "FLOWDRAFT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def full_invoice(amount: int, number: str) -> dict[str, Any]:
    """Return an invoice event with every field the shipped playbook's steps read."""
    return {
        "id": number,
        "invoice": {
            "vendor": "Acme Freight",
            "number": number,
            "amount": amount,
            "currency": "USD",
            "due_date": "2026-12-12",
            "po_number": "PO-7",
            "submitted_by": "ana",
        },
    }


@pytest.mark.slow
def test_a_draft_approved_in_the_chat_goes_live_and_each_invoice_runs_on_the_server(
    home: Path, engine_env: dict[str, str], server: ServerProcess
) -> None:
    env = {**engine_env, "FLOWDRAFT_PUBLIC_URL": server.base}
    goal = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
    events = chat(
        home,
        env,
        {"text": goal, "user": "ana", "thread": "live-1"},
        {"decision": {"type": "accept"}, "user": "carla", "thread": "live-1"},
    )
    [activated] = [e for e in events if e["type"] == "activated"]
    automation = activated["automation"]
    hook = f"{server.base}/hooks/{automation['id']}"
    said = [e["text"] for e in events if e["type"] == "message"][-1]
    assert f"is live as automation {automation['id']}" in said and hook in said
    rotate = ["automations", "rotate-token", automation["id"], "--as", "ana"]
    token = subprocess.run(
        [sys.executable, "-m", "assistant.cli", *rotate],
        env={**os.environ, **env, "FLOWDRAFT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}

    def run_of(run_id: str) -> dict[str, Any]:
        return dict(cli(home, env, "runs", "show", run_id, "--json")["run"])

    small = httpx.post(hook, json=full_invoice(5_000, "INV-1"), headers=headers, timeout=30)
    assert small.status_code == 202, small.text
    done = eventually(lambda: run_of(small.json()["run"]), lambda r: r["status"] == "completed")
    steps = {s["title"]: s for s in done["steps"]}
    posted = next(s for s in done["steps"] if s["input"].get("channel") == "#finance")
    assert "INV-1 from Acme Freight for 5000 USD" in posted["input"]["text"]
    assert [s["status"] for s in steps.values() if s["kind"] == "approval"] == ["skipped"] * 2

    large = httpx.post(hook, json=full_invoice(150_000, "INV-2"), headers=headers, timeout=30)
    run_id = large.json()["run"]
    for person in ("carla", "erin"):  # the CFO, then the CEO for an invoice above 100,000
        inbox = eventually(
            lambda person=person: cli(home, env, "inbox", "--as", person, "--json"),
            lambda out: bool(out["items"]),
        )
        [item] = inbox["items"]
        assert item["run_id"] == run_id and "150000" in item["request"]["description"]
        decided = cli(home, env, "inbox", "decide", item["id"], "accept", "--as", person, "--json")
        assert decided["ok"] is True, decided
    finished = eventually(lambda: run_of(run_id), lambda r: r["status"] == "completed")
    signed = [s["detail"] for s in finished["steps"] if s["kind"] == "approval"]
    assert "carla" in signed[0] and "erin" in signed[1]


def test_a_manual_draft_approved_in_the_chat_starts_its_first_run_on_the_server(
    home: Path, engine_env: dict[str, str], server: ServerProcess
) -> None:
    goal = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
    manual = {"workflow": {"trigger": {"kind": "manual", "detail": "Run by hand"}}}
    sample = " ".join(
        f"invoice.{name}={shlex.quote(str(value))}"
        for name, value in full_invoice(5_000, "INV-3")["invoice"].items()
        if name != "submitted_by"
    )
    events = chat(
        home,
        engine_env,
        {"text": goal, "user": "ana", "thread": "live-2"},
        {"decision": {"type": "edit", "args": manual}, "user": "ana", "thread": "live-2"},
        {"text": f"test run with {sample}", "user": "ana", "thread": "live-2"},
        {"decision": {"type": "accept"}, "user": "carla", "thread": "live-2"},
    )
    types = [e["type"] for e in events]
    assert "run" in types, [e.get("text") for e in events]
    assert types.index("activated") < types.index("run")
    [run] = [e["run"] for e in events if e["type"] == "run"]
    assert run["event"]["invoice"]["number"] == "INV-3"
    done = eventually(
        lambda: cli(home, engine_env, "runs", "show", run["id"], "--json")["run"],
        lambda r: r["status"] == "completed",
    )
    assert any("INV-3" in str(s["input"]) for s in done["steps"] if s["kind"] == "action")
