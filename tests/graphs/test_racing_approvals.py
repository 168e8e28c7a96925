"""Racing approvals from two real processes make one automation, live once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from assistant.policy.rules import DEFAULT_POLICY
from assistant.services import Services
from tests.support.servers import WebhookReceiver, serving

pytestmark = pytest.mark.integration
SECRET = "s3cret"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with serving(WebhookReceiver(secret=SECRET)) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def env(tmp_path: Path, chroma_services: Services) -> dict[str, str]:
    """A fresh home (sharing the session's ingested vectors) whose policy allows loopback hooks."""
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    policy["destinations"]["webhook_hosts"].append("127.0.0.1")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(policy))
    home = tmp_path / "home"
    home.mkdir()
    (home / "chroma").symlink_to(chroma_services.settings.chroma_path)
    return {
        **os.environ,
        "FLOWDRAFT_HOME": str(home),
        "FLOWDRAFT_POLICY": str(policy_file),
        "FLOWDRAFT_WEBHOOK_SECRET": SECRET,
        "FLOWDRAFT_CONNECTOR_TIMEOUT": "20",
    }


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def events(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def prepare(env: dict[str, str], receiver: WebhookReceiver, steps: int) -> str:
    """Draft a workflow, replace its steps with hooks to the receiver; leave it waiting."""
    thread = f"t-{uuid.uuid4().hex[:8]}"
    hooks = [
        {
            "title": f"Notify system {i}",
            "kind": "action",
            "connector": "webhook",
            "operation": "post_json",
            "params": {"url": f"{receiver.url}/hook/{i}", "payload": {"n": i}},
        }
        for i in range(1, steps + 1)
    ]
    lines = [
        {"text": "Route new support tickets to the right queue", "user": "ana", "thread": thread},
        {
            "decision": {"type": "edit", "args": {"workflow": {"steps": hooks}}},
            "user": "ana",
            "thread": thread,
        },
    ]
    result = cli(env, "chat", "--json", stdin="\n".join(json.dumps(line) for line in lines) + "\n")
    assert result.returncode == 0, result.stderr
    drafts = [e for e in events(result.stdout) if e["type"] == "draft"]
    assert drafts[-1]["workflow"]["version"] == 2, result.stdout
    assert not receiver.requests
    return thread


def accept_line(thread: str, user: str = "lee") -> str:
    return json.dumps({"decision": {"type": "accept"}, "user": user, "thread": thread}) + "\n"


@pytest.mark.slow
def test_two_approvals_at_once_from_two_processes_activate_once(
    env: dict[str, str], receiver: WebhookReceiver
) -> None:
    thread = prepare(env, receiver, steps=2)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "chat", "--json"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [
        p.communicate(accept_line(thread, user=f"approver{i}"), timeout=120)[0]
        for i, p in enumerate(procs)
    ]
    results = [events(out) for out in outputs]
    activated = [r for r in results if any(e["type"] == "activated" for e in r)]
    refused = [r for r in results if any(e["type"] == "error" for e in r)]
    assert len(activated) == 1 and len(refused) == 1, outputs
    assert (
        "already answered" in refused[0][-1]["message"]
        or "not waiting" in refused[0][-1]["message"]
    )
    listed = cli(env, "automations", "list", "--json")
    live = [a for a in json.loads(listed.stdout)["automations"] if a["status"] == "active"]
    assert len(live) == 1 and receiver.requests == []  # live, not run: no event came yet
