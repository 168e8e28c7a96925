"""Keep schedule-triggered automations' Temporal Schedules in step with their status.

An active or shadow automation with a cron has its schedule, running its own version in
its time zone (shadow runs for a shadow automation); a paused one keeps its schedule
paused; a retired one has none. ``sync_schedules`` makes it so and can be run any number of
times: ``flowdraft serve`` runs it over every automation when its engine starts (catching up
on what changed while no engine ran), status changes and activations run it for the
automation's workflow. ``run_now`` fires an automation at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from sqlalchemy.engine import Engine
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError, RPCStatusCode

from assistant.db.audit import AuditLog
from assistant.runtime import store
from assistant.runtime.engine import EngineError
from assistant.runtime.models import Automation, Run, RunEngine
from assistant.runtime.service import AutomationDesk
from assistant.runtime.temporal_schedules import schedule_event, schedule_id
from assistant.schemas import WorkflowDraft

log = logging.getLogger(__name__)

FIRE_TIMEOUT = 20.0
"""Seconds a fired schedule gets to report the run it started."""
POLL = 0.05
"""Seconds between looks at a fired schedule's recent runs."""
LATER = "`flowdraft serve` brings it in step when it starts"


class ScheduleBook(Protocol):
    """The schedules of an engine (``RunSchedules`` on Temporal)."""

    async def put(
        self, automation: Automation, draft: WorkflowDraft, cron: str, *, timezone: str = "UTC"
    ) -> str:
        """Create or replace the automation's schedule; return its id."""
        ...

    async def remove(self, automation_id: str) -> bool:
        """Delete the automation's schedule; tell whether there was one."""
        ...

    async def trigger(self, automation_id: str) -> None:
        """Fire the automation's schedule now."""
        ...

    async def recent_runs(self, automation_id: str) -> list[str]:
        """Return the ids of the runs the schedule started recently, oldest first."""
        ...


async def schedules_of(engine: RunEngine) -> ScheduleBook | None:
    """Return the schedules of ``engine``, or None for an engine without any (in memory).

    A ``RemoteEngine`` connects here, raising ``EngineError`` when Temporal is unreachable.
    """
    from assistant.runtime.remote import RemoteEngine

    found = await engine.engine() if isinstance(engine, RemoteEngine) else engine
    schedules: ScheduleBook | None = getattr(found, "schedules", None)
    return schedules


def scheduled(db: Engine, automation_id: str | None) -> list[Automation]:
    """Return the automations with a cron to sync, retired ones first.

    With ``automation_id``: that automation and the other versions of its workflow, so
    activating a version also removes the schedule of the one it retired.
    """
    if automation_id is None:
        found = store.list_automations(db)
    else:
        named = store.get_automation(db, automation_id=automation_id)
        found = store.list_automations(db, workflow_id=named.workflow_id) if named else []
    with_cron = [a for a in found if a.trigger.cron]
    return sorted(with_cron, key=lambda a: a.status != "retired")


async def sync_schedules(
    db: Engine, engine: RunEngine, automation_id: str | None = None
) -> list[str]:
    """Bring the Temporal Schedules of automations in step with their status.

    Covers every automation with a cron, or only ``automation_id``'s workflow (its other
    versions too). Returns the ids of the schedules put in place or removed; an engine
    without schedules (the in-memory one) changes nothing and returns ``[]``. A schedule
    Temporal refuses is logged and skipped, so one bad automation holds up no other;
    ``EngineError`` (or an unavailable service) is raised when Temporal cannot be reached.

    Example:
        >>> # await sync_schedules(db, engine, activation.automation.id)
        >>> # ['schedule.au_5f0c1e2d3b4a']
    """
    automations = scheduled(db, automation_id)
    if not automations:
        return []
    schedules = await schedules_of(engine)
    if schedules is None:
        return []
    changed: list[str] = []
    for automation in automations:
        try:
            if await keep_in_step(db, schedules, automation):
                changed.append(schedule_id(automation.id))
        except RPCError as exc:
            if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
                raise
            log.warning("the schedule of %s is not in step: %s", automation.id, exc)
    return changed


async def keep_in_step(db: Engine, schedules: ScheduleBook, automation: Automation) -> bool:
    """Put or remove one automation's schedule; tell whether anything was there to change."""
    if automation.status == "retired":
        return await schedules.remove(automation.id)
    draft = store.automation_draft(db, automation_id=automation.id)
    if draft is None or automation.trigger.cron is None:
        return False
    zone = store.automation_timezone(db, automation_id=automation.id) or "UTC"
    await schedules.put(automation, draft, automation.trigger.cron, timezone=zone)
    return True


async def sync_after_change(db: Engine, engine: RunEngine | None, automation: Automation) -> str:
    """Sync the schedule of ``automation`` after its status changed; say what became of it.

    Best effort: with no engine reachable the schedule stays as it was until ``flowdraft
    serve`` starts and syncs every schedule.
    """
    state = "paused" if automation.status == "paused" else "firing"
    if engine is None:
        return f"no run engine is reachable, so its schedule is not {state} yet: {LATER}"
    try:
        changed = await sync_schedules(db, engine, automation.id)
    except (EngineError, TemporalError) as exc:
        return f"its schedule could not be changed ({exc}): {LATER}"
    if schedule_id(automation.id) not in changed:
        return "Temporal refused to change its schedule; see the warning logged about it"
    shadow = " (shadow runs)" if automation.status == "shadow" else ""
    return f"its schedule ({automation.trigger.cron}) is {state}{shadow}"


async def sync_at_start(db: Engine, engine: RunEngine) -> None:
    """Sync every schedule when ``flowdraft serve`` starts its engine; log, never raise."""
    try:
        changed = await sync_schedules(db, engine)
    except (EngineError, TemporalError) as exc:
        log.warning("schedules are not in step with their automations: %s", exc)
        return
    if changed:
        log.info("%d schedules in step with their automations", len(changed))


async def run_now(desk: AutomationDesk, automation_id: str, *, actor: str) -> Run:
    """Start a run of ``automation_id`` now, as ``actor``, and return it.

    A schedule automation fires its schedule (synced first, in case it was made while no
    engine ran; on an engine without schedules the run starts with the same event). Any
    other automation starts a run with an empty event, refused like any event that lacks
    a field its steps use. Raises ``RunRefused`` (404, 409 paused or retired, 422), and
    ``TimeoutError`` when a fired schedule reports no run.
    """
    automation = store.get_automation(desk.db, automation_id=automation_id)
    cron = automation.trigger.cron if automation else None
    if automation is None or cron is None:
        return (await desk.start(automation_id, {}, actor=actor)).run
    if automation.status not in ("active", "shadow"):
        raise desk.refuse(
            409,
            automation_id,
            actor,
            f"{automation.title} v{automation.version} is {automation.status}, so its "
            "schedule does not fire"
            + (
                f"; resume it with `flowdraft automations resume {automation_id}`"
                if automation.status == "paused"
                else ""
            ),
        )
    schedules = await schedules_of(desk.engine)
    if schedules is None:
        zone = store.automation_timezone(desk.db, automation_id=automation_id) or "UTC"
        return (await desk.start(automation_id, schedule_event(cron, zone), actor=actor)).run
    await sync_schedules(desk.db, desk.engine, automation_id)
    run_id = await fire(schedules, automation_id)
    AuditLog(desk.db).append(
        "schedule_fired",
        actor=actor,
        thread=run_id,
        content_hash=automation.content_hash,
        data={"automation": automation_id, "run": run_id},
    )
    return await desk.engine.run(run_id)


async def fire(schedules: ScheduleBook, automation_id: str, timeout: float = FIRE_TIMEOUT) -> str:
    """Fire the schedule of ``automation_id``; return the id of the run it started."""
    before = set(await schedules.recent_runs(automation_id))
    await schedules.trigger(automation_id)
    deadline = time.monotonic() + timeout
    while True:
        fresh = [r for r in await schedules.recent_runs(automation_id) if r not in before]
        if fresh:
            return fresh[-1]
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the schedule of {automation_id} did not fire in {timeout:g}s")
        await asyncio.sleep(POLL)
