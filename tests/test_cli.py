"""The CLI's JSON modes as another program sees them: real processes, stdout is only JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from assistant.schemas import Intent, ReplyDraft, WorkflowDraft
from assistant.services import Services

pytestmark = pytest.mark.integration


def flowdraft(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "FLOWDRAFT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def lines(out: bytes) -> list[dict]:
    return [json.loads(line) for line in out.decode().splitlines()]


@pytest.fixture
def home(services: Services) -> Path:
    """The session's already-ingested home, so each process starts quickly."""
    return services.settings.home


def test_draft_json_then_approve_from_another_process(home: Path) -> None:
    thread = f"x-{uuid.uuid4().hex[:6]}"
    drafted = flowdraft(
        home,
        "draft",
        "Refunds over $200 need the support lead; post in #refunds",
        "--json",
        "--thread",
        thread,
    )
    assert drafted.returncode == 0, drafted.stderr.decode()
    out = json.loads(drafted.stdout)
    assert set(out) == {"intent", "workflow", "question"}
    Intent.model_validate(out["intent"])
    workflow = WorkflowDraft.model_validate(out["workflow"])
    assert workflow.playbook == "returns-refunds"

    decisions = (
        json.dumps({"decision": {"type": "accept"}, "user": "lee", "thread": thread})
        + "\n"
        + json.dumps({"decision": {"type": "accept"}, "user": "lee", "thread": thread})
        + "\n"
    ).encode()
    resumed = flowdraft(home, "chat", "--json", stdin=decisions)
    assert resumed.returncode == 0, resumed.stderr.decode()
    events = lines(resumed.stdout)
    activated = [e for e in events if e["type"] == "activated"]
    assert len(activated) == 1 and activated[0]["thread"] == thread
    automation = activated[0]["automation"]
    assert automation["version"] == workflow.version and automation["status"] == "active"
    assert automation["content_hash"] == workflow.content_hash
    assert events[-1] == {
        "type": "error",
        "thread": thread,
        "message": f"thread {thread!r} is not waiting for a decision",
    }


def test_chat_json_survives_bad_lines(home: Path) -> None:
    thread = f"b-{uuid.uuid4().hex[:6]}"
    good = json.dumps(
        {"text": "What needs CFO approval?", "user": "ana", "thread": thread}
    ).encode()
    stdin = b"\n".join(
        [
            b"{not json",
            b"\xff\xfe broken utf-8",
            json.dumps({"text": "", "thread": thread}).encode(),
            json.dumps({"text": "x" * 100_000, "thread": thread}).encode(),
            json.dumps({"text": "hi", "thread": thread, "mood": "happy"}).encode(),
            json.dumps({"decision": {"type": "accept"}, "thread": "nobody-waits"}).encode(),
            json.dumps(["a", "list"]).encode(),
            good,
        ]
    )
    result = flowdraft(home, "chat", "--json", stdin=stdin + b"\n")
    assert result.returncode == 0, result.stderr.decode()
    events = lines(result.stdout)
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 7
    reasons = " | ".join(e["message"] for e in errors)
    for fragment in (
        "not valid JSON",
        "UTF-8",
        "empty",
        "too long",
        "unknown field(s): mood",
        "not waiting",
        "JSON object",
    ):
        assert fragment in reasons
    answer = [e for e in events if e["type"] == "message"]
    assert answer and answer[0]["thread"] == thread and answer[0]["sources"]


def test_ask_json(home: Path) -> None:
    result = flowdraft(home, "ask", "How long do we keep customer personal data?", "--json")
    assert result.returncode == 0, result.stderr.decode()
    out = json.loads(result.stdout)
    assert set(out) == {"answer", "sources"}
    assert out["sources"][0]["doc"] == "policies/data-handling.md"


def test_reply_json_lines_one_answer_per_ticket(home: Path) -> None:
    tickets = [
        {
            "id": "T1",
            "subject": "Package not here",
            "body": "My order has not arrived, where is it?",
            "customer": {"email": "a@example.com", "name": "Ann"},
        },
        {"id": "T2", "subject": "no body"},
        {
            "id": "T3",
            "subject": "2FA",
            "body": "How do I turn on two-factor authentication?",
            "customer": {"email": "b@example.com"},
        },
    ]
    stdin = "\n".join(json.dumps(t) for t in tickets).encode()
    result = flowdraft(home, "reply", "--ticket", "-", "--json", stdin=stdin)
    assert result.returncode == 1  # one ticket was invalid
    out = lines(result.stdout)
    assert len(out) == 3
    ReplyDraft.model_validate(out[0]["reply"])
    assert "body" in out[1]["error"]
    assert out[2]["reply"]["citations"][0]["doc"] == "faq/two-factor-setup.md"


def test_bad_configuration_is_reported_not_raised(home: Path) -> None:
    env_result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "hello", "--json"],
        capture_output=True,
        env={**os.environ, "FLOWDRAFT_HOME": str(home), "FLOWDRAFT_MODEL": "gpt4"},
        timeout=60,
        check=False,
    )
    assert env_result.returncode == 2
    assert b"FLOWDRAFT_MODEL" in env_result.stderr and env_result.stdout == b""


@pytest.mark.slow
def test_postgres_scale_out_threads_resume_in_another_process(
    home: Path, postgres_url: str
) -> None:
    """With FLOWDRAFT_DATABASE_URL on PostgreSQL, checkpoints and records live there."""
    import psycopg

    name = f"scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    env = {**os.environ, "FLOWDRAFT_HOME": str(home), "FLOWDRAFT_DATABASE_URL": url}

    def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "assistant.cli", *args],
            input=stdin,
            capture_output=True,
            env=env,
            timeout=120,
            check=False,
        )

    drafted = run(
        "draft", "Post the weekly ticket summary in #support", "--json", "--thread", "pg1"
    )
    assert drafted.returncode == 0, drafted.stderr.decode()
    approved = run(
        "chat",
        "--json",
        stdin=json.dumps({"decision": {"type": "accept"}, "user": "lee", "thread": "pg1"}).encode(),
    )
    assert [e["type"] for e in lines(approved.stdout)] == ["activated", "message"]
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        events = [
            row[0]
            for row in conn.execute(
                "SELECT event FROM auditrecord WHERE thread = 'pg1' ORDER BY seq"
            )
        ]
        checkpoints = conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id = 'pg1'"
        ).fetchone()
    assert events[0] == "intent" and events[-1] == "activated"
    assert checkpoints and checkpoints[0] > 0
    verified = run("audit", "verify")
    assert verified.returncode == 0 and b"intact" in verified.stdout


@pytest.mark.slow
def test_users_workflows_and_audit_commands(tmp_path: Path, home: Path) -> None:
    own = tmp_path / "own-home"
    own.mkdir()
    (own / "chroma").symlink_to(home / "chroma")

    def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return flowdraft(own, *args, stdin=stdin)

    assert run("users", "add", "carla", "--role", "cfo", "--password", "pw").returncode == 0
    assert run("users", "add", "lee", "--role", "support_lead,manager").returncode == 0
    duplicate = run("users", "add", "carla", "--role", "cfo")
    assert duplicate.returncode == 1 and b"already exists" in duplicate.stderr
    listed = json.loads(run("users", "list", "--json").stdout)
    assert {u["name"]: u["roles"] for u in listed} == {
        "carla": ["cfo"],
        "lee": ["support_lead", "manager"],
    }

    drafted = json.loads(
        run(
            "draft", "Post the weekly ticket summary in #support", "--json", "--thread", "w1"
        ).stdout
    )
    workflow_id = drafted["workflow"]["id"]
    lines_in = json.dumps({"text": "send it to #ops instead", "user": "lee", "thread": "w1"}) + "\n"
    assert run("chat", "--json", stdin=lines_in.encode()).returncode == 0
    versions = json.loads(run("workflows", "list", "--json").stdout)
    assert versions[0]["id"] == workflow_id and versions[0]["version"] == 2
    diff = run("workflows", "show", workflow_id, "--version", "2", "--diff", "1").stdout.decode()
    assert '-        "channel": "#support"' in diff and '+        "channel": "#ops"' in diff
    assert run("workflows", "show", "wf_missing").returncode == 1

    assert run("audit", "verify").returncode == 0
    import sqlite3

    with sqlite3.connect(own / "flowdraft.db") as conn:
        conn.execute("UPDATE auditrecord SET actor = 'mallory' WHERE seq = 2")
    tampered = run("audit", "verify")
    assert (
        tampered.returncode == 1
        and b"record 2" in tampered.stdout
        and b"altered" in tampered.stdout
    )
    shown = [
        json.loads(line)
        for line in run("audit", "show", "--thread", "w1", "--json").stdout.splitlines()
    ]
    assert [r["event"] for r in shown][:2] == ["intent", "draft"]


def test_users_link_slack(tmp_path: Path) -> None:
    own = tmp_path / "own-home"

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return flowdraft(own, *args)

    def said(out: bytes) -> str:
        return " ".join(out.decode().split())  # rich wraps long lines at 80 columns

    assert run("users", "add", "carla", "--role", "cfo").returncode == 0
    assert run("users", "add", "lee", "--role", "manager").returncode == 0
    linked = run("users", "link-slack", "carla", "u0carla")
    assert linked.returncode == 0, linked.stderr.decode()
    assert "linked carla to Slack user U0CARLA" in said(linked.stdout)
    listed = {u["name"]: u["slack"] for u in json.loads(run("users", "list", "--json").stdout)}
    assert listed == {"carla": "U0CARLA", "lee": None}

    unknown = run("users", "link-slack", "ghost", "U0GHOST")
    assert unknown.returncode == 1 and "no user called 'ghost'" in said(unknown.stderr)
    malformed = run("users", "link-slack", "lee", "#finance")
    assert malformed.returncode == 1 and "is not a Slack user id" in said(malformed.stderr)
    taken = run("users", "link-slack", "lee", "U0CARLA")
    assert taken.returncode == 1 and "already linked to 'carla'" in said(taken.stderr)
