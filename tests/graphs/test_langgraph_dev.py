"""``langgraph dev`` serves the chat graph from ``langgraph.json``; the SDK drafts and resumes.

The server runs without ``--allow-blocking`` (a node blocking the event loop fails its run)
and with Flowdraft's custom auth: each client holds a user's API token, as Agent Inbox and
Agent Chat UI send it (``X-Api-Key``). ``scripts/test`` provides the CLI
(``FLOWDRAFT_LANGGRAPH_CLI``); elsewhere the test skips saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.db.audit import AuditLog
from assistant.db.engine import make_engine
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.settings import Settings
from assistant.web.process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
CLI = os.environ.get("FLOWDRAFT_LANGGRAPH_CLI") or shutil.which("langgraph")


@dataclass
class Served:
    """A running ``langgraph dev``: its URL, the users' API tokens and the app database."""

    url: str
    tokens: dict[str, str]
    audit: AuditLog

    def client(self, user: str) -> Any:
        """Return an SDK client acting as ``user`` (its token as ``X-Api-Key``)."""
        from langgraph_sdk import get_client

        return get_client(url=self.url, api_key=self.tokens[user])

    def events(self, thread: str) -> list[tuple[str, str, dict[str, Any]]]:
        """Return the thread's audit events as (event, actor, data)."""
        return [(r.event, r.actor, json.loads(r.data)) for r in self.audit.records(thread=thread)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Start ``langgraph dev`` (in memory) on loopback, with two users and their tokens.

    One server for the module: each test works on threads of its own.
    """
    if CLI is None:
        pytest.skip("langgraph CLI not installed: scripts/test provides it")
    tmp_path = tmp_path_factory.mktemp("langgraph-dev")
    home = tmp_path / "home"
    home.mkdir()
    engine = make_engine(Settings(home=home).database_url)
    tokens = {}
    for name, roles in (("ana", ["manager"]), ("carla", ["cfo"])):
        add_user(engine, name=name, roles=roles)
        tokens[name] = create_token(engine, name=f"{name}-inbox", owner=name)[1]
    port = free_port()
    env = {**os.environ, "FLOWDRAFT_HOME": str(home)}
    # No --allow-blocking: a node that blocks the event loop fails its run.
    command = [CLI, "dev", "--no-browser", "--no-reload"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not ready(url):
            assert process.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "langgraph dev did not start"
            time.sleep(0.2)
        yield Served(url, tokens, AuditLog(engine))
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def ready(url: str) -> bool:
    """Tell whether the server answers its health check."""
    try:
        return httpx.get(f"{url}/ok", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_langgraph_json_names_the_served_graph_and_its_auth() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["graphs"]["chat"] == "./graphs/server.py:graph"
    assert config["auth"]["path"] == "./graphs/auth.py:auth"


async def drafted(served: Served) -> tuple[str, dict[str, Any]]:
    """Have ana draft on a new thread from Agent Chat UI; return it and its review as listed."""
    ana = served.client("ana")
    thread = await ana.threads.create()
    tid = thread["thread_id"]
    out: Any = await ana.runs.wait(
        tid, "chat", input={"messages": [{"type": "human", "content": GOAL}]}
    )
    assert out["thread"] == tid and out["user"] == "ana" and out["workflow"]["version"] == 1
    # As Agent Inbox lists them: interrupted threads, each with its interrupt values.
    waiting = await served.client("carla").threads.search(status="interrupted", limit=100)
    [review] = [t for t in waiting if t["thread_id"] == tid]
    return tid, review["interrupts"][next(iter(review["interrupts"]))][0]["value"]


async def test_agent_inbox_edits_changes_and_approves(server: Served) -> None:
    tid, request = await drafted(server)
    assert request["action_request"]["action"] == "activate_workflow"
    assert request["action_requests"][0]["name"] == "activate_workflow"
    assert "approve" in request["review_configs"][0]["allowed_decisions"]
    carla = server.client("carla")

    args = {k: json.dumps(v) for k, v in request["action_request"]["args"].items()}
    edited = json.loads(args["workflow"])
    args["workflow"] = json.dumps({**edited, "title": "Invoice sign-off"})
    edit = [{"type": "edit", "args": {"action": "activate_workflow", "args": args}}]
    out: Any = await carla.runs.wait(tid, "chat", command={"resume": edit})
    assert out["workflow"]["version"] == 2 and out["workflow"]["title"] == "Invoice sign-off"

    response = [{"type": "response", "args": "send it to #ops instead"}]
    out = await carla.runs.wait(tid, "chat", command={"resume": response})
    assert out["workflow"]["version"] == 3

    out = await carla.runs.wait(tid, "chat", command={"resume": [{"type": "accept", "args": None}]})
    assert out["approvals"][-1]["user"] == "carla"
    events = server.events(tid)
    assert ("edit", "carla") in [(e, a) for e, a, _ in events]
    assert [a for e, a, _ in events if e == "approved"] == ["carla"]


async def test_v1_reject_and_agent_inbox_ignore_end_the_review(server: Served) -> None:
    carla = server.client("carla")
    for answer in ({"decisions": [{"type": "reject"}]}, [{"type": "ignore", "args": None}]):
        tid, _ = await drafted(server)
        out: Any = await carla.runs.wait(tid, "chat", command={"resume": answer})
        assert "nothing went live" in out["message"]["text"]
        assert not (await carla.threads.get_state(tid))["next"]
        assert [a for e, a, _ in server.events(tid) if e == "rejected"] == ["carla"]


async def test_mark_as_resolved_is_audited_with_who_and_which_version(server: Served) -> None:
    tid, _ = await drafted(server)
    carla = server.client("carla")
    # Agent Inbox's "Mark as resolved".
    await carla.threads.update_state(tid, None, as_node="__end__")
    assert not (await carla.threads.get_state(tid))["next"]
    waiting = await carla.threads.search(status="interrupted", limit=100)
    assert tid not in [t["thread_id"] for t in waiting]
    [resolved] = [(a, d) for e, a, d in server.events(tid) if e == "resolved"]
    assert resolved[0] == "carla" and resolved[1]["version"] == 1
    assert [e for e, _, _ in server.events(tid)].count("approved") == 0


def test_requests_without_a_token_are_refused_once_users_exist(server: Served) -> None:
    answer = httpx.post(f"{server.url}/threads/search", json={}, timeout=10)
    assert answer.status_code == 401
