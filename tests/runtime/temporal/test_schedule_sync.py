"""Schedule automations get Temporal Schedules that follow their status, and fire on demand."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import ScheduleDescription
from temporalio.service import RPCError, RPCStatusCode

from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.policy.rules import load_policy
from assistant.runtime.activation import activate, change_status
from assistant.runtime.remote import RemoteEngine
from assistant.runtime.schedule_sync import run_now, sync_schedules
from assistant.runtime.service import AutomationDesk
from tests.runtime.conftest import digest_draft
from tests.runtime.temporal.conftest import PEOPLE, Runtime

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


async def described(runtime: Runtime, automation_id: str) -> ScheduleDescription:
    return await runtime.engine.schedules.handle(automation_id).describe()


async def test_an_activated_schedule_fires_and_follows_pause_and_resume(
    runtime: Runtime, db: Engine
) -> None:
    live = activate(
        db, draft=digest_draft(), approvals=["carla"], owner="mia", timezone="Europe/Paris"
    )
    automation_id = live.automation.id
    assert live.automation.trigger.cron == "0 9 * * 1"
    synced = await sync_schedules(db, runtime.engine)
    assert f"schedule.{automation_id}" in synced
    schedule = (await described(runtime, automation_id)).schedule
    assert schedule.spec.time_zone_name == "Europe/Paris"
    assert not schedule.state.paused

    desk = AutomationDesk(
        db, runtime.engine, directory=MemoryDirectory(PEOPLE), policy=load_policy()
    )
    run = await runtime.engine.wait((await run_now(desk, automation_id, actor="mia")).id)
    assert run.status == "completed" and run.automation_id == automation_id
    assert run.event == {"schedule": {"cron": "0 9 * * 1", "timezone": "Europe/Paris"}}
    assert run.steps[0].input["text"] == "Digest v1 (0 9 * * 1)"

    directory = MemoryDirectory(PEOPLE)
    change_status(db, automation_id=automation_id, change="pause", user="mia", directory=directory)
    await sync_schedules(db, runtime.engine, automation_id)
    paused = (await described(runtime, automation_id)).schedule.state
    assert paused.paused and "paused" in (paused.note or "")

    change_status(db, automation_id=automation_id, change="resume", user="mia", directory=directory)
    await sync_schedules(db, runtime.engine, automation_id)
    assert not (await described(runtime, automation_id)).schedule.state.paused
    await runtime.engine.schedules.remove(automation_id)


async def test_a_new_version_replaces_the_old_schedule_through_a_remote_engine(
    runtime: Runtime, db: Engine
) -> None:
    remote = RemoteEngine(
        runtime.settings, directory=MemoryDirectory(PEOPLE), journal=MemoryJournal()
    )
    first = activate(db, draft=digest_draft(1), approvals=["carla"], owner="mia").automation
    assert await sync_schedules(db, remote, first.id) == [f"schedule.{first.id}"]
    second = activate(db, draft=digest_draft(2), approvals=["carla"], owner="mia").automation

    synced = await sync_schedules(db, remote, second.id)

    assert sorted(synced) == sorted([f"schedule.{first.id}", f"schedule.{second.id}"])
    with pytest.raises(RPCError) as gone:
        await described(runtime, first.id)
    assert gone.value.status == RPCStatusCode.NOT_FOUND
    action = (await described(runtime, second.id)).schedule.action
    assert "Digest v2" in str(getattr(action, "args", ""))
    assert await sync_schedules(db, remote, second.id) == [f"schedule.{second.id}"]
    await runtime.engine.schedules.remove(second.id)
