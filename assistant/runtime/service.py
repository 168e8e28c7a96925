"""What the CLI, the API and the hooks do with automations and runs, over any ``RunEngine``.

``AutomationDesk`` checks an event before any run starts (unknown automation, paused or
retired, a missing field, a repeated event id), starts it on the engine and routes inbox
decisions to it. Runs on an engine that ``indexes_runs`` (Temporal; the in-memory engine
given a database) write their own snapshots and inbox items (``indexing``); for any other
engine the desk keeps the runs index. ``engine_for`` finds the engine to use.
"""

from __future__ import annotations

import contextlib
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from assistant.db.audit import AuditLog
from assistant.db.users import Directory
from assistant.policy.rules import Policy
from assistant.runtime import inbox, store
from assistant.runtime.activation import ChangeRefused, allowed_to_change
from assistant.runtime.inbox import items_for
from assistant.runtime.models import AlreadyStarted, InboxItem, Outcome, Run, RunEngine
from assistant.runtime.steps import MissingEventFields, missing_fields
from assistant.settings import Settings, TemporalSettings

if TYPE_CHECKING:
    from assistant.services import Services

NO_ENGINE = "no run engine: start `flowdraft serve` or set FLOWDRAFT_TEMPORAL_ADDRESS"


class NoRunEngine(RuntimeError):
    """Raised when no run engine is reachable, saying how to start one."""


class RunRefused(Exception):
    """An event refused before any run started, with the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Started:
    """The run an event started, or the one its event id had already started."""

    run: Run
    created: bool


def engine_for(settings: Settings, *, db: Engine | None = None) -> RunEngine:
    """Return the run engine the settings point at, or raise ``NoRunEngine`` saying how.

    ``FLOWDRAFT_TEMPORAL_ADDRESS`` names a Temporal cluster; without it the embedded engine
    a running ``flowdraft serve`` started (on ``FLOWDRAFT_TEMPORAL_PORT``) is used. ``db``
    is the app database whose users decide (default: the settings' database).
    """
    from assistant.db.engine import make_engine
    from assistant.db.journal import SqlJournal
    from assistant.db.users import UserDirectory
    from assistant.policy.rules import load_policy
    from assistant.runtime.remote import RemoteEngine, reachable

    temporal = TemporalSettings()
    if not reachable(temporal.target):
        where = temporal.target if temporal.embedded else f"{temporal.address} (the address set)"
        raise NoRunEngine(f"{NO_ENGINE} (nothing answers at {where})")
    db = db or make_engine(settings.database_url)
    return RemoteEngine(
        temporal,
        directory=UserDirectory(db),
        journal=SqlJournal(db),
        policy=load_policy(settings.policy),
    )


def desk_for(services: Services, engine: RunEngine | None = None) -> AutomationDesk:
    """Return the desk over the app's database, directory and policy.

    ``engine`` is the one this process runs (``flowdraft serve``); without it, ``engine_for``.
    """
    return AutomationDesk(
        services.engine,
        engine or engine_for(services.settings, db=services.engine),
        directory=services.directory,
        policy=services.policy.policy,
    )


class AutomationDesk:
    """Start and steer runs of stored automations on ``engine``."""

    def __init__(
        self, db: Engine, engine: RunEngine, *, directory: Directory, policy: Policy
    ) -> None:
        self.db = db
        self.engine = engine
        self.directory = directory
        self.policy = policy
        # An engine whose runs report their own snapshots (Temporal, see ``indexing``) is the
        # only writer of them: a snapshot read here could land after a newer one and undo it.
        self.indexed = bool(getattr(engine, "indexes_runs", False))

    async def start(self, automation_id: str, event: dict[str, Any], *, actor: str) -> Started:
        """Start a run of ``automation_id`` for ``event``; raise ``RunRefused`` when refused.

        Refusals: 404 unknown automation, 409 paused or retired, 422 a missing field.
        """
        automation = store.get_automation(self.db, automation_id=automation_id)
        draft = store.automation_draft(self.db, automation_id=automation_id)
        if automation is None or draft is None:
            raise RunRefused(404, f"no automation {automation_id!r}")
        if automation.status == "paused":
            raise self.refuse(
                409,
                automation_id,
                actor,
                f"{automation.title} v{automation.version} is paused and takes no new events; "
                f"resume it with `flowdraft automations resume {automation_id}`",
            )
        if automation.status == "retired":
            live = store.list_automations(self.db, workflow_id=automation.workflow_id)
            newer = next((a for a in live if a.status != "retired"), None)
            hint = f"; send events to {newer.id} (v{newer.version})" if newer else ""
            raise self.refuse(
                409,
                automation_id,
                actor,
                f"{automation.title} v{automation.version} is retired{hint}",
            )
        missing = missing_fields(automation.trigger.fields, event)
        if missing:
            raise self.refuse(
                422, automation_id, actor, f"the event has no value for {', '.join(missing)}"
            )
        event_id = event.get("id")
        if event_id not in (None, ""):
            earlier = store.find_run(self.db, automation_id=automation_id, event_id=str(event_id))
            if earlier is not None:
                return Started(earlier, created=False)
        try:
            run = await self.engine.start_new(automation, draft, event)
        except AlreadyStarted as started:
            # A concurrent call with the same event id got past the lookup above first.
            return Started(started.run, created=False)
        except MissingEventFields as exc:
            raise self.refuse(422, automation_id, actor, str(exc)) from None
        if self.indexed:
            run = store.add_run(self.db, run=run)  # unless the run reported itself already
        else:
            store.save_run(self.db, run=run)
        AuditLog(self.db).append(
            "run_requested",
            actor=actor,
            thread=run.id,
            content_hash=run.content_hash,
            data={"automation": automation_id, "event_id": event_id, "run": run.id},
        )
        return Started(run, created=True)

    async def retry(self, run_id: str, *, actor: str) -> Run:
        """Redo the failed run ``run_id`` from its failed step as ``actor``; return the new run.

        Refusals (``RunRefused``): 404 unknown run, 403 ``actor`` is not the automation's
        owner, one of its approvers or an admin, 409 the run did not fail.
        """
        previous = store.get_run(self.db, run_id=run_id)
        found = previous.automation_id if previous else ""
        automation = store.get_automation(self.db, automation_id=found)
        draft = store.automation_draft(self.db, automation_id=found)
        if previous is None or automation is None or draft is None:
            raise RunRefused(404, f"no run {run_id!r} (see `flowdraft runs list`)")
        try:
            allowed_to_change(
                self.db,
                automation_id=automation.id,
                change="retry runs of",
                user=actor,
                directory=self.directory,
            )
        except ChangeRefused as exc:
            raise RunRefused(403, str(exc)) from None
        if previous.status != "failed":
            # The index can trail the engine by one snapshot: the engine has the last word.
            with contextlib.suppress(KeyError):
                previous = await self.engine.run(run_id)
        if previous.status != "failed":
            raise self.refuse(
                409,
                automation.id,
                actor,
                f"run {run_id} is {previous.status}; only a failed run can be retried",
            )
        try:
            run = await self.engine.retry(run_id, automation, draft)
        except ValueError as exc:
            raise self.refuse(409, automation.id, actor, str(exc)) from None
        if self.indexed:
            run = store.add_run(self.db, run=run)
        else:
            store.save_run(self.db, run=run)
        AuditLog(self.db).append(
            "run_retry_requested",
            actor=actor,
            thread=run.id,
            content_hash=run.content_hash,
            data={"automation": automation.id, "run": run.id, "retries": run_id},
        )
        return run

    def refuse(self, status: int, automation_id: str, actor: str, message: str) -> RunRefused:
        """Audit a refused event and return the refusal to raise."""
        AuditLog(self.db).append(
            "run_refused",
            actor=actor,
            data={"automation": automation_id, "status": status, "reason": message},
        )
        return RunRefused(status, message)

    async def wait(self, run_id: str, timeout: float = 30.0) -> Run:
        """Return the run once it is finished or waiting for a person; index that state."""
        run = await self.engine.wait(run_id, timeout)
        if not self.indexed:
            store.save_run(self.db, run=run)
        return run

    def inbox(self, user: str) -> list[InboxItem]:
        """Return the undecided items ``user`` may decide."""
        return items_for(self.db, user=user, directory=self.directory, policy=self.policy)

    async def decide(
        self, item_id: str, *, user: str, accept: bool, reason: str | None = None
    ) -> Outcome:
        """Decide the inbox item ``item_id`` as ``user``; a refusal is ``ok=False``."""
        held = inbox.get_item(self.db, item_id=item_id)
        if held is None:
            return Outcome(ok=False, message=f"no inbox item {item_id!r} (see `flowdraft inbox`)")
        if held.decided_by is not None:
            return Outcome(
                ok=False,
                message=f"{item_id} was already decided by {held.decided_by} ({held.decision})",
            )
        item = held.item
        if item.run_id is None or item.step_id is None:
            return Outcome(
                ok=False, message=f"{item_id} is a workflow review: decide it in the chat"
            )
        outcome = await self.engine.decide(
            item.run_id, item.step_id, user=user, accept=accept, reason=reason
        )
        if outcome.ok and not self.indexed:
            inbox.close_item(
                self.db, item_id=item_id, user=user, decision="accepted" if accept else "rejected"
            )
            # An engine that no longer knows the run leaves its last snapshot as it was.
            with suppress(KeyError):
                store.save_run(self.db, run=await self.engine.run(item.run_id))
        return outcome
