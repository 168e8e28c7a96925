"""The chat's way into the runtime: approved versions go live, drafts get test runs.

``LiveAutomations`` implements the graph's ``Automations`` port. Activating stores the
automation (``activation.activate``), then does what its trigger needs:

- webhook and event triggers: nothing more; the answer names the hook URL, under
  ``FLOWDRAFT_PUBLIC_URL``. The hook token is never put in the chat (chat history is
  stored and shared); the owner issues one with ``flowdraft automations rotate-token``.
- schedule triggers: the Temporal Schedule is created on the run engine when one is
  reachable; otherwise ``flowdraft serve`` creates it when it starts (``schedule_sync``).
- manual triggers: the first run starts with the inputs the conversation gave (the last
  test run's sample event). Without an engine, or with a field missing, the answer says
  how to start it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from assistant.db.users import Directory
from assistant.policy.rules import Policy
from assistant.runtime import store
from assistant.runtime.activation import Activation, ActivationError, activate, hook_url
from assistant.runtime.models import Automation, RunEngine
from assistant.runtime.preview import preview
from assistant.runtime.service import AutomationDesk, NoRunEngine, RunRefused
from assistant.runtime.steps import MissingEventFields
from assistant.schemas import WorkflowDraft
from graphs.automations import Activated, ActivationRefused

log = logging.getLogger(__name__)

EngineSource = Callable[[], RunEngine | None]
"""Return the run engine to use now, or None when none is reachable."""


class LiveAutomations:
    """Activate approved versions and test-run drafts for the chat graph."""

    def __init__(
        self,
        db: Engine,
        *,
        directory: Directory,
        policy: Policy,
        engine: EngineSource,
        public_url: str,
        timezone: str = "UTC",
    ) -> None:
        self.db = db
        self.directory = directory
        self.policy = policy
        self.engine = engine
        self.public_url = public_url
        self.timezone = timezone

    async def activate(
        self,
        draft: WorkflowDraft,
        *,
        approvals: list[str],
        owner: str,
        thread: str,
        inputs: dict[str, Any],
    ) -> Activated:
        """Make ``draft`` live (see the module docstring); raise ``ActivationRefused``.

        Activating the same version again (a turn resumed after a crash) returns the
        automation it already is.
        """
        earlier = await asyncio.to_thread(self.live_as, draft)
        if earlier is not None:
            return Activated(
                automation=earlier.model_dump(mode="json"),
                hook_url=hook_url(earlier, self.public_url),
            )
        try:
            made = await asyncio.to_thread(
                activate,
                self.db,
                draft=draft,
                approvals=approvals,
                owner=owner,
                thread=thread,
                timezone=self.timezone,
            )
        except ActivationError as exc:
            raise ActivationRefused(str(exc)) from None
        automation = made.automation
        notes: list[str] = []
        run = None
        if made.hook_token is not None:
            notes.append(
                f"its owner gets the hook token with `flowdraft automations rotate-token "
                f"{automation.id} --as {owner}`"
            )
        if automation.trigger.cron:
            notes.append(await self.schedule(made))
        if automation.trigger.kind == "manual":
            run, note = await self.first_run(made, inputs, owner)
            if note:
                notes.append(note)
        return Activated(
            automation=automation.model_dump(mode="json"),
            hook_url=made.hook_url(self.public_url),
            run=run,
            notes=notes,
        )

    async def test_run(self, draft: WorkflowDraft, event: dict[str, Any]) -> dict[str, Any]:
        """Return the shadow run of ``draft`` on ``event`` (see ``preview``)."""
        try:
            run = await preview(draft, event, policy=self.policy)
        except MissingEventFields as exc:
            raise ActivationRefused(str(exc)) from None
        return run.model_dump(mode="json")

    def live_as(self, draft: WorkflowDraft) -> Automation | None:
        """Return the automation ``draft`` (this exact version) already is, if any."""
        for automation in store.list_automations(self.db, workflow_id=draft.id):
            if automation.content_hash == draft.content_hash and automation.status != "retired":
                return automation
        return None

    def reachable_engine(self) -> RunEngine | None:
        """Return the run engine, or None (logged) when none answers."""
        try:
            return self.engine()
        except NoRunEngine as exc:
            log.info("no run engine for the chat: %s", exc)
            return None

    async def schedule(self, made: Activation) -> str:
        """Put the automation's schedule on the engine; return what the owner should know."""
        from assistant.runtime.schedule_sync import schedules_of, sync_after_change

        automation = made.automation
        when = f"cron `{automation.trigger.cron}`, {made.timezone}"
        engine = self.reachable_engine()
        if engine is None:
            return f"its schedule ({when}) starts firing when `flowdraft serve` runs"
        if await schedules_of(engine) is None:
            return f"its schedule ({when}) fires on a Temporal engine; this one has none"
        return await sync_after_change(self.db, engine, automation)

    async def first_run(
        self, made: Activation, inputs: dict[str, Any], owner: str
    ) -> tuple[dict[str, Any] | None, str | None]:
        """Start the manual automation's first run; return it, or why it did not start."""
        automation = made.automation
        how = f"start a run with `flowdraft runs start {automation.id} --event FILE`"
        engine = self.reachable_engine()
        if engine is None:
            return None, f"no run engine is running (start `flowdraft serve`), then {how}"
        desk = AutomationDesk(self.db, engine, directory=self.directory, policy=self.policy)
        try:
            started = await desk.start(automation.id, inputs, actor=owner)
        except RunRefused as exc:
            return None, f"the first run did not start ({exc.message}); {how}"
        return started.run.model_dump(mode="json"), None
