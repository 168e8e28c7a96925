"""Schedules follow their automation's status from the CLI and the API; run-now fires them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from temporalio.service import RPCError, RPCStatusCode
from typer.testing import CliRunner

from assistant.api.automations import automations_router
from assistant.cli import app
from assistant.db.audit import AuditLog
from assistant.db.engine import make_engine
from assistant.db.tokens import create_token
from assistant.db.users import UserDirectory, add_user
from assistant.policy.rules import load_policy
from assistant.runtime import service, store
from assistant.runtime.activation import activate, change_status
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.models import Automation
from assistant.runtime.schedule_sync import sync_after_change, sync_schedules
from assistant.runtime.service import AutomationDesk, NoRunEngine
from assistant.runtime.temporal_schedules import schedule_event
from assistant.schemas import WorkflowDraft
from assistant.settings import Settings
from assistant.web.process import free_port
from tests.runtime.conftest import PEOPLE, digest_draft, invoice_draft


@dataclass
class Kept:
    """A schedule as the fake keeps it."""

    automation: Automation
    draft: WorkflowDraft
    cron: str
    timezone: str

    @property
    def state(self) -> tuple[int, str, str, bool]:
        """Return (version, cron, zone, firing) with shadow runs marked in the zone's place."""
        firing = self.automation.status in ("active", "shadow")
        zone = f"{self.timezone} shadow" if self.automation.status == "shadow" else self.timezone
        return (self.automation.version, self.cron, zone, firing)


class FakeSchedules:
    """Schedules in a dict; firing one starts a run on the memory engine, as Temporal would."""

    def __init__(self, engine: MemoryEngine) -> None:
        self.engine = engine
        self.kept: dict[str, Kept] = {}
        self.fired: dict[str, list[str]] = {}
        self.refused: set[str] = set()
        """Automations whose schedule Temporal refuses (a time zone it does not know)."""

    async def put(
        self, automation: Automation, draft: WorkflowDraft, cron: str, *, timezone: str = "UTC"
    ) -> str:
        if automation.id in self.refused:
            raise RPCError("unknown time zone", RPCStatusCode.INVALID_ARGUMENT, b"")
        self.kept[automation.id] = Kept(automation, draft, cron, timezone)
        return f"schedule.{automation.id}"

    async def remove(self, automation_id: str) -> bool:
        return self.kept.pop(automation_id, None) is not None

    async def trigger(self, automation_id: str) -> None:
        kept = self.kept[automation_id]
        event = schedule_event(kept.cron, kept.timezone)
        run = await self.engine.start(kept.automation, kept.draft, event)
        self.fired.setdefault(automation_id, []).append(run.id)

    async def recent_runs(self, automation_id: str) -> list[str]:
        return list(self.fired.get(automation_id, []))

    def states(self) -> dict[str, tuple[int, str, str, bool]]:
        return {automation_id: kept.state for automation_id, kept in self.kept.items()}


class ScheduledEngine(MemoryEngine):
    """The in-memory engine with schedules, standing in for Temporal."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schedules = FakeSchedules(self)


def change(db: Engine, automation_id: str, what: Any) -> None:
    directory = UserDirectory(db)
    change_status(db, automation_id=automation_id, change=what, user="ana", directory=directory)


async def test_the_memory_engine_has_no_schedules_to_sync(db: Engine) -> None:
    activate(db, draft=digest_draft(), approvals=["carol"], owner="ana")
    assert await sync_schedules(db, MemoryEngine(db=db)) == []


async def test_schedules_follow_status_and_versions(db: Engine, people: UserDirectory) -> None:
    engine = ScheduledEngine(db=db, directory=people)
    first = activate(
        db, draft=digest_draft(), approvals=["carol"], owner="ana", timezone="Asia/Tokyo"
    )
    hooked = activate(db, draft=invoice_draft(), approvals=["carol"], owner="ana").automation
    one = first.automation.id
    assert await sync_schedules(db, engine) == [f"schedule.{one}"]
    assert engine.schedules.states() == {one: (1, "0 9 * * 1", "Asia/Tokyo", True)}
    assert await sync_schedules(db, engine, hooked.id) == []

    change(db, one, "pause")
    await sync_schedules(db, engine, one)
    assert engine.schedules.states() == {one: (1, "0 9 * * 1", "Asia/Tokyo", False)}
    change(db, one, "shadow")
    await sync_schedules(db, engine, one)
    assert engine.schedules.states() == {one: (1, "0 9 * * 1", "Asia/Tokyo shadow", True)}

    second = activate(db, draft=digest_draft(2), approvals=["carol"], owner="ana").automation
    assert await sync_schedules(db, engine, second.id) == [
        f"schedule.{one}",
        f"schedule.{second.id}",
    ]
    assert engine.schedules.states() == {second.id: (2, "0 9 * * 1", "UTC", True)}
    assert await sync_schedules(db, engine) == [f"schedule.{second.id}"]
    assert engine.schedules.states() == {second.id: (2, "0 9 * * 1", "UTC", True)}


async def test_a_refused_schedule_holds_up_no_other(db: Engine, people: UserDirectory) -> None:
    engine = ScheduledEngine(db=db, directory=people)
    bad = activate(db, draft=digest_draft(workflow_id="wf_a"), approvals=["carol"], owner="ana")
    good = activate(db, draft=digest_draft(workflow_id="wf_b"), approvals=["carol"], owner="ana")
    engine.schedules.refused.add(bad.automation.id)
    assert await sync_schedules(db, engine) == [f"schedule.{good.automation.id}"]
    note = await sync_after_change(db, engine, bad.automation)
    assert "Temporal refused" in note
    assert "is firing" in await sync_after_change(db, engine, good.automation)


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
def scheduled(home: Engine, monkeypatch: pytest.MonkeyPatch) -> ScheduledEngine:
    """Serve the commands from one engine with schedules, as a running server would."""
    engine = ScheduledEngine(db=home, directory=UserDirectory(home))
    monkeypatch.setattr(service, "engine_for", lambda settings, **_: engine)
    return engine


def invoke(*args: str, code: int = 0) -> tuple[Any, str]:
    """Run a command; return its JSON answer and what it said on stderr."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return json.loads(result.stdout), result.stderr


def test_status_commands_pause_and_resume_the_schedule(
    home: Engine, scheduled: ScheduledEngine
) -> None:
    one = activate(home, draft=digest_draft(), approvals=["carol"], owner="ana").automation.id
    paused, said = invoke("automations", "pause", one, "--as", "ana", "--json")
    assert set(paused) == {"automation"} and paused["automation"]["status"] == "paused"
    assert "its schedule (0 9 * * 1) is paused" in said
    assert scheduled.schedules.states()[one][3] is False
    refused, _ = invoke("automations", "resume", one, "--as", "dan", "--json", code=1)
    assert "dan may not resume" in refused["error"]
    assert scheduled.schedules.states()[one][3] is False
    invoke("automations", "resume", one, "--as", "ana", "--json")
    assert scheduled.schedules.states()[one][3] is True


def test_a_status_change_without_an_engine_waits_for_serve(
    home: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_PORT", str(free_port()))  # nothing listens there
    one = activate(home, draft=digest_draft(), approvals=["carol"], owner="ana").automation.id
    paused, said = invoke("automations", "pause", one, "--as", "ana", "--json")
    assert paused["automation"]["status"] == "paused"
    assert "not paused yet" in said and "`flowdraft serve`" in said


def test_run_now_fires_the_schedule_for_those_who_may(
    home: Engine, scheduled: ScheduledEngine
) -> None:
    one = activate(home, draft=digest_draft(), approvals=["carol"], owner="ana").automation.id
    refused, _ = invoke("automations", "run-now", one, "--as", "dan", "--json", code=1)
    assert "dan may not run" in refused["error"] and "ana" in refused["error"]
    assert scheduled.schedules.fired == {}

    run = invoke("automations", "run-now", one, "--as", "carol", "--json")[0]["run"]
    assert scheduled.schedules.fired == {one: [run["id"]]}
    assert run["status"] == "completed" and run["event"] == schedule_event("0 9 * * 1", "UTC")
    assert [r.actor for r in AuditLog(home).records() if r.event == "schedule_fired"] == ["carol"]

    invoke("automations", "pause", one, "--as", "ana", "--json")
    paused, _ = invoke("automations", "run-now", one, "--as", "ana", "--json", code=1)
    assert "is paused" in paused["error"] and f"automations resume {one}" in paused["error"]
    assert len(scheduled.schedules.fired[one]) == 1


def test_run_now_of_other_triggers_starts_a_run_with_an_empty_event(
    home: Engine, scheduled: ScheduledEngine
) -> None:
    hooked = activate(home, draft=invoice_draft(), approvals=["carol"], owner="ana").automation
    missing, _ = invoke("automations", "run-now", hooked.id, "--as", "ana", "--json", code=1)
    assert "invoice.vendor" in missing["error"]
    assert store.list_runs(home) == []


async def test_the_api_keeps_the_schedule_in_step(db: Engine, people: UserDirectory) -> None:
    engine = ScheduledEngine(db=db, directory=people)
    desks: list[AutomationDesk] = [
        AutomationDesk(db, engine, directory=people, policy=load_policy())
    ]

    def current() -> AutomationDesk:
        if not desks:
            raise NoRunEngine("no run engine: start `flowdraft serve`")
        return desks[0]

    site = FastAPI()
    site.include_router(automations_router(db, current))
    one = activate(db, draft=digest_draft(), approvals=["carol"], owner="ana").automation.id
    auth = {"Authorization": f"Bearer {create_token(db, name='ana-api', owner='ana')[1]}"}
    async with http_client(site) as http:
        paused = await http.post(f"/api/automations/{one}/pause", json={}, headers=auth)
        assert paused.status_code == 200 and paused.json()["automation"]["status"] == "paused"
        assert engine.schedules.states()[one][3] is False
        desks.clear()  # the engine went away: the change is made, the schedule follows later
        resumed = await http.post(f"/api/automations/{one}/resume", json={}, headers=auth)
        assert resumed.status_code == 200 and resumed.json()["automation"]["status"] == "active"
    assert engine.schedules.states()[one][3] is False
    await sync_schedules(db, engine)
    assert engine.schedules.states()[one][3] is True


def http_client(site: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=site), base_url="http://t.test")
