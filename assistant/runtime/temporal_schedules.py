"""Schedule triggers as Temporal Schedules: each firing starts a run of the automation."""

from __future__ import annotations

from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from assistant.runtime.models import Automation
from assistant.runtime.plan import RunInput, RunOptions
from assistant.runtime.workflows import RunAutomation
from assistant.schemas import WorkflowDraft


def schedule_id(automation_id: str) -> str:
    """Return the Temporal Schedule id of an automation."""
    return f"schedule.{automation_id}"


def schedule_event(cron: str, timezone: str) -> dict[str, Any]:
    """Return the event each firing of a schedule starts its run with."""
    return {"schedule": {"cron": cron, "timezone": timezone}}


class RunSchedules:
    """Create, pause, fire and remove the schedules of schedule-triggered automations.

    A scheduled run's id is ``{automation id}.scheduled-{time}`` (Temporal appends the
    firing time) and its event is ``{"schedule": {"cron": ..., "timezone": ...}}``. Firings
    never skip for a run still in flight: a weekly run waiting for a sign-off does not hold
    up next week's.
    """

    def __init__(self, client: Client, *, task_queue: str, options: RunOptions) -> None:
        self.client = client
        self.task_queue = task_queue
        self.options = options

    def handle(self, automation_id: str) -> ScheduleHandle:
        """Return the schedule handle of an automation."""
        return self.client.get_schedule_handle(schedule_id(automation_id))

    async def put(
        self, automation: Automation, draft: WorkflowDraft, cron: str, *, timezone: str = "UTC"
    ) -> str:
        """Create the automation's schedule, or replace it; return its id.

        Its runs take the automation's version and status as given (shadow runs for a
        shadow automation); it is paused unless the automation is active or shadow.

        Example:
            >>> # await engine.schedules.put(automation, draft, "0 9 * * 1", timezone="Europe/Paris")
        """
        data = RunInput(
            automation=automation,
            draft=draft,
            event=schedule_event(cron, timezone),
            shadow=automation.status == "shadow",
            options=self.options,
        )
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                RunAutomation.run,
                data,
                id=f"{automation.id}.scheduled",
                task_queue=self.task_queue,
            ),
            spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=timezone),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL),
            state=ScheduleState(
                paused=automation.status not in ("active", "shadow"),
                note=f"{automation.title} v{automation.version} is {automation.status}",
            ),
        )
        try:
            await self.client.create_schedule(schedule_id(automation.id), schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await self.handle(automation.id).update(replace)
        return schedule_id(automation.id)

    async def trigger(self, automation_id: str) -> None:
        """Fire the schedule now (``flowdraft automations run-now``), even beside a run in flight."""
        await self.handle(automation_id).trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)

    async def recent_runs(self, automation_id: str) -> list[str]:
        """Return the ids of the runs the schedule started recently, oldest first."""
        described = await self.handle(automation_id).describe()
        return [
            str(getattr(result.action, "workflow_id", ""))
            for result in described.info.recent_actions
        ]

    async def pause(self, automation_id: str, note: str = "paused") -> None:
        """Stop firing until resumed."""
        await self.handle(automation_id).pause(note=note)

    async def resume(self, automation_id: str) -> None:
        """Fire again on the schedule."""
        await self.handle(automation_id).unpause()

    async def remove(self, automation_id: str) -> bool:
        """Delete the schedule (the automation was retired); tell whether there was one."""
        try:
            await self.handle(automation_id).delete()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return False
        return True
