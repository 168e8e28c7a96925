"""``langgraph dev`` serves the chat graph from ``langgraph.json``; the SDK drafts and resumes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.web.process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
CLI = os.environ.get("FLOWDRAFT_LANGGRAPH_CLI") or shutil.which("langgraph")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Start ``langgraph dev`` (in memory) on loopback; yield its URL."""
    if CLI is None:
        pytest.skip("langgraph CLI not installed: pip install 'langgraph-cli[inmem]'")
    port = free_port()
    env = {**os.environ, "FLOWDRAFT_HOME": str(tmp_path / "home")}
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
        yield url
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


def test_langgraph_json_names_the_served_graph() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["graphs"]["chat"] == "./graphs/server.py:graph"


async def test_agent_chat_ui_draft_then_agent_inbox_resumes(server: str) -> None:
    from langgraph_sdk import get_client

    client = get_client(url=server)
    [assistant] = await client.assistants.search(graph_id="chat")
    schemas = await client.assistants.get_schemas(assistant["assistant_id"])
    assert set(schemas["context_schema"]["properties"]) == {"sources_k"}
    assert "messages" in schemas["input_schema"]["properties"]

    thread = await client.threads.create()
    tid = thread["thread_id"]
    human = {"type": "human", "content": GOAL}
    out: Any = await client.runs.wait(tid, "chat", input={"messages": [human]})
    assert out["thread"] == tid and out["workflow"]["version"] == 1

    waiting = await client.threads.search(status="interrupted")
    [review] = [t for t in waiting if t["thread_id"] == tid]
    request = review["interrupts"][next(iter(review["interrupts"]))][0]["value"]
    assert request["action_request"]["action"] == "activate_workflow"

    args = {k: json.dumps(v) for k, v in request["action_request"]["args"].items()}
    edited = json.loads(args["workflow"])
    args["workflow"] = json.dumps({**edited, "title": "Invoice sign-off"})
    edit = [{"type": "edit", "args": {"action": "activate_workflow", "args": args}}]
    out = await client.runs.wait(tid, "chat", command={"resume": edit})
    assert out["workflow"]["version"] == 2 and out["workflow"]["title"] == "Invoice sign-off"

    ignore = {"decisions": [{"type": "reject"}]}
    out = await client.runs.wait(tid, "chat", command={"resume": ignore})
    assert "nothing went live" in out["message"]["text"]
    state = await client.threads.get_state(tid)
    assert not state["next"]
