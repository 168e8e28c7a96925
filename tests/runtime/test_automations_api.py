"""Hooks and the automations, runs and inbox API over the in-memory engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from assistant.api.automations import automations_router
from assistant.db.tokens import create_token
from assistant.db.users import UserDirectory
from assistant.policy.rules import load_policy
from assistant.runtime import store
from assistant.runtime.activation import Activation, activate
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.service import AutomationDesk, NoRunEngine
from tests.runtime.conftest import invoice, invoice_draft
from tests.support.live import serving_app


class Site:
    """A bare app with the automations router, the invoice automation and an API token."""

    def __init__(self, db: Engine, people: UserDirectory) -> None:
        self.db = db
        self.engine = MemoryEngine(db=db, directory=people)
        self.desk: AutomationDesk | None = AutomationDesk(
            db, self.engine, directory=people, policy=load_policy()
        )
        self.app = FastAPI()
        self.app.include_router(automations_router(db, self.current))
        self.live: Activation = activate(
            db, draft=invoice_draft(), approvals=["carol"], owner="ana"
        )
        self.tokens = {
            name: create_token(db, name=f"{name}-api", owner=name)[1]
            for name in ("ana", "carol", "dan")
        }
        _, self.ownerless = create_token(db, name="intake")

    def current(self) -> AutomationDesk:
        if self.desk is None:
            raise NoRunEngine("no run engine: start `flowdraft serve`")
        return self.desk

    @property
    def hook(self) -> str:
        return f"/hooks/{self.live.automation.id}"

    @property
    def hook_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.live.hook_token}"}

    @property
    def api_auth(self) -> dict[str, str]:
        return self.auth("ana")

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


@pytest.fixture
def site(db: Engine, people: UserDirectory) -> Site:
    return Site(db, people)


@pytest.fixture
async def http(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=site.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdraft.test") as client:
        yield client


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    return str(body["error"])


async def test_a_hook_starts_one_run_per_event_id(site: Site, http: httpx.AsyncClient) -> None:
    first = await http.post(site.hook, json=invoice(5000, event_id="inv-1"), headers=site.hook_auth)
    assert first.status_code == 202 and set(first.json()) == {"run"}
    again = await http.post(site.hook, json=invoice(5000, event_id="inv-1"), headers=site.hook_auth)
    assert again.status_code == 200 and again.json() == first.json()
    assert len(store.list_runs(site.db)) == 1
    run = store.get_run(site.db, run_id=first.json()["run"])
    assert run is not None and run.status == "completed"


async def test_a_hook_with_a_bad_or_no_token_starts_nothing(
    site: Site, http: httpx.AsyncClient
) -> None:
    for headers in ({}, {"Authorization": "Bearer fh_wrong"}, site.api_auth):
        response = await http.post(site.hook, json=invoice(5000), headers=headers)
        assert "hook token" in error_of(response, 401)
    assert store.list_runs(site.db) == []


async def test_a_hook_refuses_unknown_paused_and_incomplete_events(
    site: Site, http: httpx.AsyncClient
) -> None:
    unknown = await http.post("/hooks/au_nothing", json=invoice(5000), headers=site.hook_auth)
    error_of(unknown, 404)
    event = invoice(5000)
    del event["invoice"]["vendor"]
    assert "invoice.vendor" in error_of(
        await http.post(site.hook, json=event, headers=site.hook_auth), 422
    )
    assert "JSON object" in error_of(
        await http.post(site.hook, json=[1], headers=site.hook_auth), 422
    )
    changed = await http.post(
        f"/api/automations/{site.live.automation.id}/pause",
        json={},
        headers=site.auth("ana"),
    )
    assert changed.status_code == 200 and changed.json()["automation"]["status"] == "paused"
    paused = await http.post(site.hook, json=invoice(5000), headers=site.hook_auth)
    assert "paused" in error_of(paused, 409)
    assert store.list_runs(site.db) == []


async def test_the_api_mirrors_the_cli(site: Site, http: httpx.AsyncClient) -> None:
    automation_id = site.live.automation.id
    listed = (await http.get("/api/automations", headers=site.api_auth)).json()
    assert [a["id"] for a in listed["automations"]] == [automation_id]
    shown = (await http.get(f"/api/automations/{automation_id}", headers=site.api_auth)).json()
    assert shown["automation"]["trigger"]["hook"] == site.hook
    started = await http.post(
        "/api/runs",
        json={"automation": automation_id, "event": invoice(50_000), "wait": True},
        headers=site.api_auth,
    )
    assert started.status_code == 202
    run = started.json()["run"]
    assert run["status"] == "waiting"
    waiting = await http.get("/api/runs", params={"status": "waiting"}, headers=site.api_auth)
    assert [r["id"] for r in waiting.json()["runs"]] == [run["id"]]
    inbox = (await http.get("/api/inbox", headers=site.auth("carol"))).json()
    (item,) = inbox["items"]
    assert item["run_id"] == run["id"] and item["approver_role"] == "cfo"
    assert (await http.get("/api/inbox", headers=site.auth("dan"))).json() == {"items": []}
    refused = await http.post(
        f"/api/inbox/{item['id']}",
        json={"decision": "accept"},
        headers=site.auth("dan"),
    )
    assert refused.status_code == 403 and refused.json()["ok"] is False
    assert "carol" in refused.json()["message"]
    accepted = await http.post(
        f"/api/inbox/{item['id']}",
        json={"decision": "accept"},
        headers=site.auth("carol"),
    )
    assert accepted.status_code == 200 and accepted.json()["ok"] is True
    done = (await http.get(f"/api/runs/{run['id']}", headers=site.api_auth)).json()["run"]
    assert done["status"] == "completed"


async def test_a_failed_run_is_retried_from_its_failed_step(
    site: Site, http: httpx.AsyncClient
) -> None:
    site.engine.failing["slack"] = "Slack answers 503"
    started = await http.post(
        "/api/runs",
        json={"automation": site.live.automation.id, "event": invoice(5000), "wait": True},
        headers=site.api_auth,
    )
    failed = started.json()["run"]
    assert failed["status"] == "failed"
    retry = f"/api/runs/{failed['id']}/retry"
    error_of(await http.post(retry, json={}), 401)
    refused = error_of(await http.post(retry, json={}, headers=site.auth("dan")), 403)
    assert "dan may not retry" in refused and "ana, carol" in refused
    claimed = error_of(await http.post(retry, json={"user": "ana"}, headers=site.auth("dan")), 403)
    assert "acts as dan" in claimed
    error_of(await http.post("/api/runs/run_none/retry", json={}, headers=site.api_auth), 404)

    site.engine.failing.clear()  # the connector is back
    answered = await http.post(retry, json={}, headers=site.auth("carol"))
    assert answered.status_code == 202, answered.text
    new_id = answered.json()["run"]
    assert set(answered.json()) == {"run"} and new_id != failed["id"]
    done = (await http.get(f"/api/runs/{new_id}", headers=site.api_auth)).json()["run"]
    assert done["status"] == "completed" and done["steps"][0] == failed["steps"][0]
    assert [a["idempotency_key"] for a in site.engine.actions] == [
        f"{failed['id']}:s1",
        f"{failed['id']}:s6",
    ]
    again = error_of(
        await http.post(f"/api/runs/{new_id}/retry", json={}, headers=site.api_auth), 409
    )
    assert "is completed" in again


async def test_the_api_needs_a_token_and_an_engine(site: Site, http: httpx.AsyncClient) -> None:
    error_of(await http.get("/api/automations"), 401)
    error_of(await http.get("/api/runs/run_nothing", headers=site.api_auth), 404)
    refused = await http.post(
        f"/api/automations/{site.live.automation.id}/pause",
        json={},
        headers=site.auth("dan"),
    )
    assert "only its owner" in error_of(refused, 403)
    posing = await http.post(
        f"/api/automations/{site.live.automation.id}/pause",
        json={"user": "ana"},
        headers=site.auth("dan"),
    )
    assert "acts as dan, not ana" in error_of(posing, 403)
    ownerless = await http.post(
        f"/api/automations/{site.live.automation.id}/pause",
        json={"user": "ana"},
        headers={"Authorization": f"Bearer {site.ownerless}"},
    )
    assert "belongs to no user" in error_of(ownerless, 403)
    site.desk = None
    no_engine = await http.post(site.hook, json=invoice(5000), headers=site.hook_auth)
    assert "flowdraft serve" in error_of(no_engine, 503)


@pytest.fixture
def served(site: Site) -> Iterator[str]:
    with serving_app(site.app) as url:
        yield url


def test_a_hook_over_a_real_socket(site: Site, served: str) -> None:
    response = httpx.post(
        served + site.hook, json=invoice(5000, event_id="inv-9"), headers=site.hook_auth
    )
    assert response.status_code == 202
    assert store.find_run(site.db, automation_id=site.live.automation.id, event_id="inv-9")
