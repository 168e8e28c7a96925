"""Schedule triggers as Temporal Schedules: each firing starts a run of the automation."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
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


class RunSchedules:
    """Create, pause, fire and remove the schedules of schedule-triggered automations.

    A scheduled run's id is ``{automation id}.scheduled-{time}`` (Temporal appends the
    firing time) and its event is ``{"schedule": {"cron": ..., "timezone": ...}}``.
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
        """Create the automation's schedule, or replace its spec and version; return its id.

        Example:
            >>> # await engine.schedules.put(automation, draft, "0 9 * * 1", timezone="Europe/Paris")
        """
        data = RunInput(
            automation=automation,
            draft=draft,
            event={"schedule": {"cron": cron, "timezone": timezone}},
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
            state=ScheduleState(paused=automation.status in ("paused", "retired")),
        )
        try:
            await self.client.create_schedule(schedule_id(automation.id), schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await self.handle(automation.id).update(replace)
        return schedule_id(automation.id)

    async def trigger(self, automation_id: str) -> None:
        """Fire the schedule now (a "run now" button, and tests)."""
        await self.handle(automation_id).trigger()

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

    async def remove(self, automation_id: str) -> None:
        """Delete the schedule (the automation was retired); a missing one is fine."""
        try:
            await self.handle(automation_id).delete()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
