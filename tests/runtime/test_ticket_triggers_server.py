"""Tickets posted to the real server's ``/api/tickets`` start runs on its embedded Temporal.

One run per ticket for an active ticket automation, with the ticket's values rendered; the
same ticket again starts nothing; a paused ticket automation refuses (audited) while the
ticket is still drafted; an invoice automation is never fed tickets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from assistant.db.audit import AuditLog
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.runtime import store
from assistant.runtime.activation import activate
from assistant.runtime.models import Run
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.web.process import free_port
from assistant.web.server import create_app
from tests.runtime.conftest import invoice_draft
from tests.runtime.ticket_automations import ticket, ticket_note_draft
from tests.support.live import services_with, serving_app

pytestmark = pytest.mark.integration

SETTLE = 30.0
"""Seconds the server gets to reach the state a step of the test waits for."""
T = TypeVar("T")


def eventually(read: Callable[[], T], holds: Callable[[T], bool]) -> T:
    """Return ``read()`` once ``holds`` is true of it; fail after ``SETTLE`` seconds."""
    deadline = time.monotonic() + SETTLE
    while True:
        value = read()
        if holds(value):
            return value
        assert time.monotonic() < deadline, f"still {value}"
        time.sleep(0.1)


def embed_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let servers start their embedded Temporal, on free loopback ports."""
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_ENABLED", "true")
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_UI", "false")
    for name in ("PORT", "HTTP_PORT", "METRICS_PORT", "UI_PORT"):
        monkeypatch.setenv(f"FLOWDRAFT_TEMPORAL_{name}", str(free_port()))


@pytest.fixture
def embedded_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the server start its embedded Temporal."""
    embed_engine(monkeypatch)


def test_posted_tickets_start_one_run_each_of_the_ticket_automations(
    services: Services, tmp_path: Path, embedded_engine: None
) -> None:
    mine = services_with(services, tmp_path / "home", ConnectorSettings())
    db = mine.engine
    add_user(db, name="sam", roles=["support"])
    note = activate(db, draft=ticket_note_draft(), approvals=["lea"], owner="sam").automation
    paused = activate(
        db, draft=ticket_note_draft("wf_paused"), approvals=["lea"], owner="sam", status="paused"
    ).automation
    invoices = activate(db, draft=invoice_draft(), approvals=["lea"], owner="sam").automation
    _, token = create_token(db, name="helpdesk", owner="sam")
    audit = AuditLog(db)

    def fed(ref: str) -> list[dict[str, Any]]:
        return [json.loads(r.data) for r in audit.records(thread=ref) if r.event == "ticket_fed"]

    def runs_of(automation_id: str) -> list[Run]:
        return store.list_runs(db, automation_id=automation_id)

    with serving_app(create_app(mine)) as base:
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        posted = api.post("/api/tickets", json=ticket().model_dump(mode="json"))
        assert posted.status_code == 202, posted.text
        ref = posted.json()["ticket"]

        [outcome] = eventually(lambda: fed(ref), bool)
        [run] = eventually(
            lambda: runs_of(note.id), lambda runs: [r.status for r in runs] == ["completed"]
        )
        assert outcome["runs"] == {note.id: run.id}
        assert (
            run.event["id"] == f"ticket-{ref}" and run.event["ticket"]["external_id"] == "ZD-4711"
        )
        assert run.steps[0].input == {
            "ticket_id": ref,
            "body": "From jo@customer.example via api: Where is my parcel?",
        }
        assert run.steps[0].detail == f"commented on {ref}"
        assert run.steps[1].input["text"] == f"New ticket {ref} (ZD-4711)"

        # The paused automation refused the ticket, said why, and the ticket was still drafted.
        assert runs_of(paused.id) == [] and "paused" in outcome["refused"][paused.id]
        refusals = [json.loads(r.data) for r in audit.records() if r.event == "run_refused"]
        assert [r["automation"] for r in refusals] == [paused.id]
        drafted = eventually(lambda: api.get(f"/api/tickets/{ref}/reply"), lambda r: r.is_success)
        assert drafted.json()["status"] == "waiting" and drafted.json()["draft"]
        # The invoice automation is no ticket automation: never offered it.
        assert runs_of(invoices.id) == [] and invoices.id not in outcome["refused"]

        again = api.post("/api/tickets", json=ticket().model_dump(mode="json"))
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        other = api.post(
            "/api/tickets", json=ticket("ZD-4712", "Lamp arrived broken").model_dump(mode="json")
        )
        other_ref = other.json()["ticket"]
        eventually(lambda: fed(other_ref), bool)

    assert sorted(r.event["id"] for r in runs_of(note.id)) == [
        f"ticket-{ref}",
        f"ticket-{other_ref}",
    ]
    assert len(fed(ref)) == 1


def test_a_ticket_taken_in_while_no_engine_runs_is_fed_once_the_server_has_one(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = services_with(services, tmp_path / "home", ConnectorSettings())
    db = mine.engine
    add_user(db, name="sam", roles=["support"])
    note = activate(db, draft=ticket_note_draft(), approvals=["lea"], owner="sam").automation
    _, token = create_token(db, name="helpdesk", owner="sam")
    headers = {"Authorization": f"Bearer {token}"}
    # No engine in this server, and nothing answers where another one would be.
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_PORT", str(free_port()))

    with serving_app(create_app(mine)) as base:
        api = httpx.Client(base_url=base, headers=headers, timeout=30)
        posted = api.post("/api/tickets", json=ticket().model_dump(mode="json"))
        assert posted.status_code == 202, posted.text
        ref = posted.json()["ticket"]
        drafted = eventually(lambda: api.get(f"/api/tickets/{ref}/reply"), lambda r: r.is_success)
        assert drafted.json()["status"] == "waiting"
    assert store.list_runs(db, automation_id=note.id) == []

    embed_engine(monkeypatch)
    with serving_app(create_app(mine)):
        [run] = eventually(
            lambda: store.list_runs(db, automation_id=note.id),
            lambda runs: [r.status for r in runs] == ["completed"],
        )
    assert run.event["id"] == f"ticket-{ref}"
    assert run.steps[0].input["body"] == "From jo@customer.example via api: Where is my parcel?"
