"""Feed stored support tickets to the automations a new ticket starts: once each, never lost.

Every intake (the API, ``flowdraft tickets add``, Slack) stores its ticket in the helpdesk
table, and a stored intake ticket with no ``TicketFeed`` row still has to be fed: that row
is written once the ticket was given to every automation it starts (``ticket_events``) that
was live when it arrived. In ``flowdraft serve`` the support desk nudges the feeder as it
drafts each ticket (``TicketFeeder.nudge``: the runs start on the side, the draft does not
wait for them), and ``keep_feeding`` sweeps the rest now and then: tickets added from the
CLI, tickets that came in while no run engine was reachable, feeds a crash cut off.

Each automation gets ``AutomationDesk.start`` with the ticket event, whose id
(``ticket-HD-12``) makes a ticket fed twice start one run per automation. A refusal (paused,
a missing field such as ``customer.plan``) is audited by the desk with its reason, logged,
and recorded on the ticket's ``ticket_fed`` audit event; it never stops intake or drafting.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from assistant.db.audit import AuditLog
from assistant.db.engine import session_scope
from assistant.db.tables import HelpdeskTicket, TicketFeed
from assistant.db.tickets import get_ticket
from assistant.runtime import store
from assistant.runtime.models import Automation
from assistant.runtime.service import AutomationDesk, NoRunEngine, RunRefused
from assistant.runtime.store import aware
from assistant.runtime.ticket_events import fed_by_tickets, ticket_event
from connectors.tickets import ticket_label

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15.0
"""How often ``flowdraft serve`` looks for tickets that still have to be fed."""


@dataclass
class Feeding:
    """What feeding one ticket did: runs started (or found), refusals, or why it waits."""

    ref: str
    runs: dict[str, str] = field(default_factory=dict)
    """Run id per automation id."""
    refused: dict[str, str] = field(default_factory=dict)
    """Reason per automation id."""
    waiting: str | None = None
    """Why the ticket still has to be fed (no run engine, the engine failed); None once fed."""
    already: bool = False
    """The ticket had been fed before: nothing was started."""


def automations_for(db: Engine, received: datetime) -> list[Automation]:
    """Return the automations a ticket received at ``received`` starts (live at that time)."""
    return [
        automation
        for automation in fed_by_tickets(store.list_automations(db))
        if automation.created_at <= (aware(received) or automation.created_at)
    ]


def is_fed(db: Engine, row_id: int) -> bool:
    """Tell whether the ticket ``row_id`` has been fed."""
    with session_scope(db) as session:
        return session.get(TicketFeed, row_id) is not None


def pending_tickets(db: Engine) -> list[int]:
    """Return the intake tickets that still have to be fed, oldest first.

    Only tickets received since the oldest live automation that new tickets start count:
    an automation is never fed the tickets that arrived before it was activated.
    """
    automations = fed_by_tickets(store.list_automations(db))
    if not automations:
        return []
    since = min(automation.created_at for automation in automations)
    with session_scope(db) as session:
        rows = session.exec(
            select(HelpdeskTicket.id)
            .where(col(HelpdeskTicket.external_id).is_not(None))
            .where(col(HelpdeskTicket.created_at) >= since)
            .where(col(HelpdeskTicket.id).not_in(select(TicketFeed.ticket_id)))
            .order_by(col(HelpdeskTicket.id))
        ).all()
    return [row_id for row_id in rows if row_id is not None]


def record_fed(db: Engine, row_id: int, feeding: Feeding) -> bool:
    """Record that ``row_id`` was fed and audit the outcome; False if it already was."""
    outcome = {"runs": feeding.runs, "refused": feeding.refused}
    try:
        with session_scope(db) as session:
            session.add(TicketFeed(ticket_id=row_id, outcome=json.dumps(outcome)))
    except IntegrityError:  # fed at the same moment by another server: its record stands
        return False
    AuditLog(db).append("ticket_fed", actor="flowdraft", thread=feeding.ref, data=outcome)
    return True


class TicketFeeder:
    """Start runs for stored tickets on the desk ``desk`` returns (it may raise ``NoRunEngine``)."""

    def __init__(self, db: Engine, desk: Callable[[], AutomationDesk]) -> None:
        self.db = db
        self.desk = desk
        self.feeding: dict[int, asyncio.Task[Feeding]] = {}
        """Feeds in flight in this process, by ticket row id: a second request joins them."""
        self.engine_missing = False

    def nudge(self, row_id: int) -> None:
        """Feed the ticket ``row_id`` in the background and return at once."""
        self._task(row_id)

    async def feed(self, row_id: int) -> Feeding:
        """Feed the ticket ``row_id`` unless it was fed; return what happened."""
        joined = row_id in self.feeding
        feeding = await self._task(row_id)
        return Feeding(feeding.ref, already=True) if joined else feeding

    async def feed_pending(self) -> int:
        """Feed every ticket that still has to be fed; return how many were fed now."""
        pending = await asyncio.to_thread(pending_tickets, self.db)
        if not pending:
            return 0
        try:
            desk = await asyncio.to_thread(self.desk)
        except NoRunEngine as exc:
            if not self.engine_missing:  # said once, not on every sweep
                log.warning("%d tickets wait to feed automations: %s", len(pending), exc)
            self.engine_missing = True
            return 0
        self.engine_missing = False
        fed = 0
        for row_id in pending:
            feeding = await self._task(row_id, desk)
            fed += feeding.waiting is None and not feeding.already
        return fed

    async def keep_feeding(self, every: float = SWEEP_SECONDS) -> None:
        """Feed pending tickets now and every ``every`` seconds after, until cancelled."""
        while True:
            try:
                await self.feed_pending()
            except Exception:  # a database hiccup must not end the sweeps
                log.exception("feeding pending tickets to automations failed")
            await asyncio.sleep(every)

    async def settle(self) -> None:
        """Wait for the feeds in flight to end."""
        while self.feeding:
            await asyncio.gather(*self.feeding.values(), return_exceptions=True)

    def stop(self) -> None:
        """Cancel the feeds in flight; their tickets stay pending for the next sweep."""
        for task in list(self.feeding.values()):
            task.cancel()

    def _task(self, row_id: int, desk: AutomationDesk | None = None) -> asyncio.Task[Feeding]:
        task = self.feeding.get(row_id)
        if task is None:
            task = asyncio.create_task(
                self._feed(row_id, desk), name=f"feed {ticket_label(row_id)}"
            )
            self.feeding[row_id] = task
            task.add_done_callback(partial(self._done, row_id))
        return task

    def _done(self, row_id: int, task: asyncio.Task[Feeding]) -> None:
        self.feeding.pop(row_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("feeding %s failed", ticket_label(row_id), exc_info=task.exception())

    async def _feed(self, row_id: int, desk: AutomationDesk | None) -> Feeding:
        ref = ticket_label(row_id)
        row = await asyncio.to_thread(get_ticket, self.db, row_id=row_id)
        if row is None or row.external_id is None:
            return Feeding(ref)  # not a customer's ticket: nothing to feed
        if await asyncio.to_thread(is_fed, self.db, row_id):
            return Feeding(ref, already=True)
        automations = await asyncio.to_thread(automations_for, self.db, row.created_at)
        if not automations:
            return Feeding(ref)
        if desk is None:
            try:
                desk = await asyncio.to_thread(self.desk)
            except NoRunEngine as exc:
                log.warning("%s waits to feed %d automations: %s", ref, len(automations), exc)
                return Feeding(ref, waiting=str(exc))
        feeding = Feeding(ref)
        event = ticket_event(row)
        for automation in automations:
            try:
                started = await desk.start(automation.id, event, actor=f"ticket:{ref}")
            except RunRefused as exc:
                feeding.refused[automation.id] = exc.message
                log.info("%s did not start %s: %s", ref, automation.id, exc.message)
            except Exception as exc:  # the engine failed: the next sweep feeds the ticket again
                log.exception("%s could not start %s", ref, automation.id)
                feeding.waiting = f"{automation.id}: {exc}"
                return feeding
            else:
                feeding.runs[automation.id] = started.run.id
        await asyncio.to_thread(record_fed, self.db, row_id, feeding)
        return feeding
