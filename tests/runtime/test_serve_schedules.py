"""``flowdraft serve`` makes the schedules activated while it was down; the CLI steers them.

The automation is activated before the server starts, so only the server's start-up sync can
have made its schedule; the CLI (another process) then fires and pauses it through the
engine the server started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import ScheduleDescription

from assistant.db.engine import make_engine
from assistant.runtime.activation import activate
from assistant.runtime.engine import connect
from assistant.runtime.models import Automation
from assistant.runtime.temporal_schedules import schedule_event, schedule_id
from assistant.settings import TemporalSettings
from assistant.web.process import ServerProcess
from tests.runtime.conftest import digest_draft
from tests.runtime.test_serve_runs import cli, engine_env, eventually, home

__all__ = ["engine_env", "home"]  # the server's fixtures, shared with test_serve_runs

pytestmark = pytest.mark.integration


@pytest.fixture
def activated(home: Path) -> Automation:
    """Activate the weekly digest while no server runs."""
    db = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    return activate(
        db, draft=digest_draft(), approvals=["carla"], owner="ana", timezone="Europe/Paris"
    ).automation


@pytest.fixture
def late_server(
    activated: Automation, home: Path, engine_env: dict[str, str]
) -> Iterator[ServerProcess]:
    """Run ``flowdraft serve`` after the activation."""
    process = ServerProcess(home, env=engine_env)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def describe(engine_env: dict[str, str], automation_id: str) -> ScheduleDescription:
    """Describe the automation's schedule on the server's embedded engine."""
    settings = TemporalSettings(port=int(engine_env["FLOWDRAFT_TEMPORAL_PORT"]))

    async def read() -> ScheduleDescription:
        client = await connect(settings)
        return await client.get_schedule_handle(schedule_id(automation_id)).describe()

    return asyncio.run(read())


def test_serve_makes_the_schedule_and_the_cli_fires_and_pauses_it(
    activated: Automation, home: Path, engine_env: dict[str, str], late_server: ServerProcess
) -> None:
    schedule = describe(engine_env, activated.id).schedule
    assert schedule.spec.time_zone_name == "Europe/Paris" and not schedule.state.paused

    fired = cli(home, engine_env, "automations", "run-now", activated.id, "--as", "ana", "--json")
    run_id = fired["run"]["id"]
    assert run_id.startswith(f"{activated.id}.scheduled")
    run = eventually(
        lambda: cli(home, engine_env, "runs", "show", run_id, "--json")["run"],
        lambda run: run["status"] == "completed",
    )
    assert run["event"] == schedule_event("0 9 * * 1", "Europe/Paris")

    refused = cli(
        home, engine_env, "automations", "pause", activated.id, "--as", "dan", "--json", code=1
    )
    assert "dan may not pause" in refused["error"]
    assert not describe(engine_env, activated.id).schedule.state.paused
    cli(home, engine_env, "automations", "pause", activated.id, "--as", "ana", "--json")
    assert describe(engine_env, activated.id).schedule.state.paused
