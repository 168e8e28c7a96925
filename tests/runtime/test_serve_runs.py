"""A real ``flowdraft serve`` with its embedded Temporal runs the invoice automation end to end.

Events arrive at the hook, the run waits for the CFO, and the CLI (another process, the same
home) sees and decides it through the engine the server started.
"""

from __future__ import annotations

import json
import os
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
