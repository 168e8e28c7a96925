"""The support desk: every intake ticket gets a drafted reply that an agent accepts, edits or
rejects, and only then is anything sent to the customer.

Each ticket runs the graph's reply path on its own thread (``ticket-HD-12``): triage,
retrieval from the FAQ and policies, a reply grounded in what was retrieved, then a review
interrupt. The agent's decision resumes that thread, whose ``send_reply`` node answers on the
ticket's channel and notes the reply on the helpdesk ticket. A ``TicketReply`` row keeps the
draft and the decision for the queue and the metrics. Drafting is idempotent per ticket, so
a ticket whose drafting was cut off by a crash is drafted by the next sweep
(``draft_pending``, run when the server starts).

A decision is stored (``sending`` or ``rejecting``) before the thread is resumed, then the
outcome (``sent``, ``failed`` or ``rejected``): a crash in between leaves a record the
start-up sweep finishes, never one that says ``waiting`` while the reply went out. A
``failed`` delivery can be retried by an agent, with the same idempotency keys.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from assistant.db.engine import session_scope
from assistant.db.tables import HelpdeskTicket, TicketReply
from assistant.db.tickets import as_ticket, find_ticket, get_ticket
from assistant.schemas import ReplyDraft
from assistant.services import Services
from assistant.support.decisions import already, claim, drive, store, stored_decision
from assistant.support.queue import (
    PRIORITY_ORDER,
    DeskError,
    Incomplete,
    NotAgent,
    NotFound,
    QueueItem,
    edit_size,
    ticket_thread,
)
from assistant.support.worker import TurnWorker
from connectors.tickets import ticket_label
from graphs.runner import ChatRunner

__all__ = [
    "DeskError",
    "Incomplete",
    "NotAgent",
    "NotFound",
    "QueueItem",
    "SupportDesk",
    "edit_size",
    "ticket_thread",
]

log = logging.getLogger(__name__)

ESCALATE_TO = "support_lead"  # the role a ticket nobody could answer goes to
QUEUED = ("waiting", "failed")  # what the queue shows: drafts to decide, deliveries to retry


class SupportDesk:
    """Draft replies for intake tickets and apply agents' decisions."""

    def __init__(
        self, services: Services, runner: ChatRunner, *, worker: TurnWorker | None = None
    ) -> None:
        self.services = services
        self.runner = runner
        self.worker = worker
        """When set, tickets are drafted on this worker's thread and runner, off the loop
        that receives them (a server passes ``worker_for(services)``)."""
        self.engine = services.engine
        self.on_ticket: Callable[[int], None] | None = None
        """Told each intake ticket's row id as it is drafted (``flowdraft serve`` feeds
        automations with it); it must return at once and never raise."""

    # -- drafting --------------------------------------------------------------------

    async def draft(self, row_id: int) -> TicketReply:
        """Draft the reply to helpdesk ticket ``row_id`` once; return its record."""
        if self.on_ticket is not None:
            self.on_ticket(row_id)  # API, Slack and the start-up sweep all draft here
        if self.worker is not None:
            return await self.worker.call(lambda runner: self._draft_with(runner, row_id))
        return await self._draft_with(self.runner, row_id)

    async def _draft_with(self, runner: ChatRunner, row_id: int) -> TicketReply:
        existing = self._record(row_id)
        if existing is not None:
            return existing
        row = get_ticket(self.engine, row_id=row_id)
        if row is None:
            raise NotFound(f"no ticket {ticket_label(row_id)}")
        ticket, ref = as_ticket(row), ticket_label(row_id)
        thread = ticket_thread(ref)
        if await runner.pending_review(thread) is None:
            async for _ in runner.send_ticket(thread, ticket, ref=ref):
                pass
        state = await runner.state(thread)
        reply = ReplyDraft.model_validate(state["reply"])
        record = TicketReply(
            ticket_id=row_id,
            thread=thread,
            route=reply.route,
            confidence=reply.confidence,
            category=reply.triage.category,
            priority=reply.triage.priority,
            drafted_body=reply.body,
            citations=json.dumps([c.model_dump(mode="json") for c in reply.citations]),
        )
        try:
            with session_scope(self.engine) as session:
                session.add(record)
                session.flush()
                session.refresh(record)
        except IntegrityError:  # drafted at the same moment elsewhere: theirs stands
            return self._record(row_id) or record
        self.services.journal.event(
            "reply_drafted",
            actor="flowdraft",
            thread=thread,
            ticket=ref,
            route=reply.route,
            confidence=reply.confidence,
            category=reply.triage.category,
        )
        return record

    async def draft_pending(self) -> int:
        """Draft every intake ticket that has no reply yet (after a crash or a CLI add).

        Decisions a crash cut off are finished first (``finish_interrupted``).
        """
        await self.finish_interrupted()
        with session_scope(self.engine) as session:
            drafted = select(TicketReply.ticket_id)
            rows = session.exec(
                select(HelpdeskTicket.id)
                .where(col(HelpdeskTicket.source).is_not(None))
                .where(col(HelpdeskTicket.id).not_in(drafted))
            ).all()
        for row_id in rows:
            if row_id is not None:
                try:
                    await self.draft(row_id)
                except Exception:
                    log.exception("drafting %s failed", ticket_label(row_id))
        return len(rows)

    # -- the queue -------------------------------------------------------------------

    def queue(self, limit: int = 50) -> list[QueueItem]:
        """Return the tickets that need an agent, most urgent first, then oldest first.

        That is the drafts waiting for a decision and the replies whose delivery failed
        (only a retry is left for those). Within one priority the waiting drafts come
        first: a failed delivery was already decided and its customer is told nothing
        new until the channel works again, while a waiting draft needs the agent's reading.
        """
        with session_scope(self.engine) as session:
            records = list(
                session.exec(select(TicketReply).where(col(TicketReply.status).in_(QUEUED))).all()
            )
        records.sort(
            key=lambda r: (PRIORITY_ORDER.get(r.priority, 9), r.status == "failed", r.drafted_at)
        )
        return [self._item(r) for r in records[:limit]]

    def waiting(self) -> int:
        """Return how many replies wait for an agent's decision."""
        return self._count("waiting")

    def failed(self) -> int:
        """Return how many replies failed to be delivered and wait for a retry."""
        return self._count("failed")

    def _count(self, status: str) -> int:
        with session_scope(self.engine) as session:
            count = session.exec(
                select(func.count()).select_from(TicketReply).where(TicketReply.status == status)
            ).one()
        return int(count)

    def item(self, ref: str) -> QueueItem:
        """Return the ticket ``ref`` (HD-12 or the caller's id) with its draft."""
        row = find_ticket(self.engine, ref=ref)
        record = self._record(row.id) if row and row.id is not None else None
        if record is None:
            raise NotFound(f"no drafted reply for ticket {ref!r}")
        return self._item(record)

    # -- decisions -------------------------------------------------------------------

    async def accept(self, ref: str, agent: str) -> TicketReply:
        """Send the draft as it is."""
        item = self._waiting(ref, agent)
        if item.needs_writing:
            raise DeskError(
                f"{item.ref} was routed to a person ({item.record.category}): "
                "write the reply with Edit, or reject it"
            )
        return await self._send(item, agent, "accepted", item.record.drafted_body)

    async def edit(self, ref: str, agent: str, body: str) -> TicketReply:
        """Send the agent's version of the reply."""
        body = body.strip()
        if not body:
            raise Incomplete("the reply is empty")
        item = self._waiting(ref, agent)
        kind = "accepted" if body == item.record.drafted_body.strip() else "edited"
        return await self._send(item, agent, kind, body)

    async def reject(self, ref: str, agent: str, reason: str) -> TicketReply:
        """Discard the draft, with the reason; nothing is sent.

        A ticket routed to a person has no draft to discard and its customer still waits
        for an answer, so it is escalated instead (``escalate``).
        """
        reason = " ".join(reason.split())[:500]
        if not reason:
            raise Incomplete("say why the draft is rejected (e.g. wrong article, wrong tone)")
        item = self._waiting(ref, agent)
        if item.needs_writing:
            return await self.escalate(item, agent, reason)
        record = claim(
            self.engine,
            item,
            "waiting",
            "rejecting",
            decision="rejected",
            agent=agent,
            reason=reason,
        )
        await self._close(record)
        self.services.journal.event(
            "reply_rejected", actor=agent, thread=record.thread, ticket=item.ref, reason=reason
        )
        return self._record(record.ticket_id) or record

    async def escalate(self, item: QueueItem, agent: str, reason: str) -> TicketReply:
        """Hand a ticket on to the support lead: it stays waiting, first in the queue."""
        record = claim(
            self.engine,
            item,
            "waiting",
            "waiting",
            priority="urgent",
            reason=f"escalated to the support lead by {agent}: {reason}",
        )
        key = f"{record.thread}:escalate:{record.reason}"
        assign = {"ticket_id": item.ref, "assignee": ESCALATE_TO}
        await self.services.registry.get("tickets").execute("assign", assign, key)
        self.services.journal.event(
            "reply_escalated", actor=agent, thread=record.thread, ticket=item.ref, reason=reason
        )
        return record

    async def retry(self, ref: str, agent: str) -> TicketReply:
        """Send a reply whose delivery failed again, with the same idempotency key."""
        self.check_agent(agent)
        item = self.item(ref)
        if item.record.status != "failed":
            raise DeskError(
                f"{item.ref} is {item.record.status}: only a failed delivery can be retried"
            )
        record = claim(self.engine, item, "failed", "sending")
        self.services.journal.event(
            "reply_retried", actor=agent, thread=record.thread, ticket=item.ref
        )
        return await self._deliver(record, again=True)

    async def finish_interrupted(self) -> int:
        """Finish every decision a crash cut off midway; return how many there were.

        The decision is stored before anything is sent, so after a crash the record says
        ``sending`` (or ``rejecting``) and the thread says how far it got: it is finished
        here with the same idempotency keys, and the record then matches what happened.
        """
        with session_scope(self.engine) as session:
            records = list(
                session.exec(
                    select(TicketReply).where(col(TicketReply.status).in_(["sending", "rejecting"]))
                ).all()
            )
        for record in records:
            try:
                if record.status == "sending":
                    await self._deliver(record)
                else:
                    await self._close(record)
            except Exception:
                log.exception("finishing the decision on %s failed", record.thread)
        return len(records)

    async def _send(self, item: QueueItem, agent: str, kind: str, body: str) -> TicketReply:
        changed = edit_size(item.record.drafted_body, body) if not item.needs_writing else len(body)
        record = claim(
            self.engine,
            item,
            "waiting",
            "sending",
            decision=kind,
            agent=agent,
            final_body=body,
            edit_chars=0 if kind == "accepted" else changed,
        )
        return await self._deliver(record)

    async def _deliver(self, record: TicketReply, *, again: bool = False) -> TicketReply:
        """Take a ``sending`` reply as far as it goes; record ``sent`` or ``failed``.

        ``again``: the thread already tried to deliver (a retry), so deliver once more.
        """
        try:
            results = await drive(self.runner, record, stored_decision(record), again=again)
        except DeskError:  # nothing went out: the record is back where it was
            if again:
                store(self.engine, record, status="failed")
            else:
                store(self.engine, record, status="waiting", decision=None, agent=None)
            raise
        except Exception as exc:  # a broken send is a failed delivery an agent can retry
            log.exception("delivering the reply on %s failed", record.thread)
            results = [{"status": "failed", "detail": f"interrupted: {exc}"}]
        result = results[0] if results else {"status": "failed", "detail": "nothing was sent"}
        store(
            self.engine,
            record,
            status="sent" if result["status"] == "ok" else "failed",
            delivery=f"{result['status']}: {result['detail']}"[:500],
        )
        return self._record(record.ticket_id) or record

    async def _close(self, record: TicketReply) -> None:
        """End a rejected reply's thread (nothing is sent) and record it ``rejected``."""
        try:
            await drive(self.runner, record, stored_decision(record))
        except DeskError:
            store(self.engine, record, status="waiting", decision=None, agent=None, reason=None)
            raise
        store(self.engine, record, status="rejected")

    # -- records ---------------------------------------------------------------------

    def check_agent(self, agent: str) -> None:
        """Refuse anyone who is not a support agent (once users are set up)."""
        directory = self.services.directory
        if directory.is_open():
            return
        roles = directory.roles_of(agent)
        if roles is None:
            raise NotAgent(f"{agent} is not a known user")
        policy = self.services.policy.policy
        if not policy.is_support_agent(roles):
            raise NotAgent(f"{agent} is not a support agent (needs {policy.support_agents_text()})")

    def _waiting(self, ref: str, agent: str) -> QueueItem:
        self.check_agent(agent)
        item = self.item(ref)
        if item.record.status != "waiting":
            raise DeskError(already(item))
        return item

    def _record(self, row_id: int) -> TicketReply | None:
        with session_scope(self.engine) as session:
            return session.exec(select(TicketReply).where(TicketReply.ticket_id == row_id)).first()

    def _item(self, record: TicketReply) -> QueueItem:
        row = get_ticket(self.engine, row_id=record.ticket_id)
        if row is None:
            raise NotFound(f"ticket {ticket_label(record.ticket_id)} is gone")
        return QueueItem(ref=ticket_label(record.ticket_id), ticket=as_ticket(row), record=record)
