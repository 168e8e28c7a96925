"""``flowdraft automations``, ``runs`` and ``inbox`` through typer's runner, on the home database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from assistant.cli import app
from assistant.db.audit import AuditLog
from assistant.db.engine import make_engine
from assistant.db.users import UserDirectory, add_user
from assistant.runtime import service
from assistant.runtime.activation import activate
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.models import Automation
from assistant.settings import Settings
from assistant.web.process import free_port
from tests.runtime.conftest import PEOPLE, invoice, invoice_draft


@pytest.fixture
def home() -> Engine:
    """The database the commands use (FLOWDRAFT_HOME is a fresh folder per test), with people."""
    settings = Settings()
    settings.ensure_home()
    engine = make_engine(settings.database_url)
    for name, roles in PEOPLE.items():
        add_user(engine, name=name, roles=roles)
    return engine


@pytest.fixture
def live(home: Engine) -> Automation:
    return activate(home, draft=invoice_draft(), approvals=["carol"], owner="ana").automation


@pytest.fixture
def engine(home: Engine, monkeypatch: pytest.MonkeyPatch) -> MemoryEngine:
    """Serve the run commands from one in-memory engine, as a running server would."""
    memory = MemoryEngine(db=home, directory=UserDirectory(home))
    monkeypatch.setattr(service, "engine_for", lambda settings, **_: memory)
    return memory


def call(*args: str, stdin: str | None = None, code: int = 0) -> Any:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def test_automations_list_show_and_pause(live: Automation) -> None:
    listed = call("automations", "list", "--json")
    assert [a["id"] for a in listed["automations"]] == [live.id]
    shown = call("automations", "show", live.id, "--json")["automation"]
    assert shown["trigger"]["fields"] == ["invoice.vendor", "invoice.amount", "invoice.number"]
    refused = call("automations", "pause", live.id, "--as", "dan", "--json", code=1)
    assert "dan may not pause" in refused["error"]
    paused = call("automations", "pause", live.id, "--as", "ana", "--json")
    assert paused["automation"]["status"] == "paused"
    assert "no automation" in call("automations", "show", "au_none", "--json", code=1)["error"]


def test_runs_start_list_show_and_decide(live: Automation, engine: MemoryEngine) -> None:
    event = json.dumps(invoice(50_000, event_id="inv-7"))
    run = call("runs", "start", live.id, "--event", "-", "--wait", "--json", stdin=event)["run"]
    assert run["status"] == "waiting" and run["event"]["id"] == "inv-7"
    again = call("runs", "start", live.id, "--event", "-", "--json", stdin=event)["run"]
    assert again["id"] == run["id"]
    listed = call("runs", "list", "--automation", live.id, "--status", "waiting", "--json")
    assert [r["id"] for r in listed["runs"]] == [run["id"]]
    (item,) = call("inbox", "--as", "carol", "--json")["items"]
    assert call("inbox", "--as", "dan", "--json") == {"items": []}
    refused = call("inbox", "decide", item["id"], "accept", "--as", "dan", "--json", code=1)
    assert refused["ok"] is False and "carol" in refused["message"]
    accepted = call(
        "inbox", "decide", item["id"], "accept", "--as", "carol", "--reason", "PO matched", "--json"
    )
    assert accepted["ok"] is True
    twice = call("inbox", "decide", item["id"], "reject", "--as", "carol", "--json", code=1)
    assert "already decided" in twice["message"]
    shown = call("runs", "show", run["id"], "--json")["run"]
    assert shown["status"] == "completed"
    assert [a["step"] for a in engine.actions] == ["s1", "s6"]


def test_runs_start_refuses_missing_fields_and_paused_automations(
    live: Automation, engine: MemoryEngine
) -> None:
    incomplete = invoice(5000)
    del incomplete["invoice"]["number"]
    missing = call(
        "runs", "start", live.id, "--event", "-", "--json", stdin=json.dumps(incomplete), code=1
    )
    assert "invoice.number" in missing["error"]
    call("automations", "pause", live.id, "--as", "ana", "--json")
    paused = call(
        "runs", "start", live.id, "--event", "-", "--json", stdin=json.dumps(invoice(5000)), code=1
    )
    assert "paused" in paused["error"]
    assert call("runs", "list", "--json") == {"runs": []}
    assert engine.actions == []


def test_run_commands_say_how_to_get_an_engine(
    live: Automation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_PORT", str(free_port()))  # nothing listens there
    out = call(
        "runs", "start", live.id, "--event", "-", "--json", stdin=json.dumps(invoice(5000)), code=1
    )
    assert out["error"].startswith(service.NO_ENGINE)


def test_runs_retry_redoes_a_failed_run_from_its_failed_step(
    home: Engine, live: Automation, engine: MemoryEngine
) -> None:
    engine.failing["slack"] = "Slack answers 503"
    event = json.dumps(invoice(5000, event_id="inv-9"))
    failed = call("runs", "start", live.id, "--event", "-", "--wait", "--json", stdin=event)["run"]
    assert failed["status"] == "failed" and "Slack answers 503" in failed["steps"][5]["detail"]
    refused = call("runs", "retry", failed["id"], "--as", "dan", "--json", code=1)
    assert "dan may not retry" in refused["error"] and "ana" in refused["error"]

    engine.failing.clear()  # the connector is back
    retried = call("runs", "retry", failed["id"], "--as", "root", "--json")["run"]
    assert retried["id"] != failed["id"] and retried["status"] == "completed"
    assert retried["version"] == failed["version"] and retried["event"]["id"] == "inv-9"
    assert retried["steps"][0] == failed["steps"][0]
    assert [(a["step"], a["idempotency_key"]) for a in engine.actions] == [
        ("s1", f"{failed['id']}:s1"),
        ("s6", f"{failed['id']}:s6"),
    ]
    shown = call("runs", "show", retried["id"], "--json")["run"]
    assert shown["status"] == "completed"
    again = call("runs", "retry", retried["id"], "--as", "ana", "--json", code=1)
    assert "completed" in again["error"]
    audited = [r for r in AuditLog(home).records() if r.event == "run_retry_requested"]
    assert [(r.actor, r.thread) for r in audited] == [("root", retried["id"])]
