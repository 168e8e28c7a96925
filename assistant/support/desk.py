"""The support desk: every intake ticket gets a drafted reply that an agent accepts, edits or
rejects, and only then is anything sent to the customer.

Each ticket runs the graph's reply path on its own thread (``ticket-HD-12``): triage,
retrieval from the FAQ and policies, a reply grounded in what was retrieved, then a review
interrupt. The agent's decision resumes that thread, whose ``send_reply`` node answers on the
ticket's channel and notes the reply on the helpdesk ticket. A ``TicketReply`` row keeps the
draft and the decision for the queue and the metrics. Drafting is idempotent per ticket, so
a ticket whose drafting was cut off by a crash is drafted by the next sweep
(``draft_pending``, run when the server starts).
"""

from __future__ import annotations

import difflib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from assistant.db.engine import session_scope
from assistant.db.tables import HelpdeskTicket, TicketReply, utcnow
from assistant.db.tickets import as_ticket, find_ticket, get_ticket
from assistant.schemas import ReplyDraft, ReviewResponse, Source, Ticket
from assistant.services import Services
from connectors.tickets import ticket_label
from graphs.runner import ChatRunner, InputError

log = logging.getLogger(__name__)

AGENT_ROLES = {"support", "support_lead", "admin"}
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


class DeskError(ValueError):
    """Raised for a desk action that cannot be done, with the reason (``status`` for HTTP)."""

    status = 409


class NotFound(DeskError):
    """The ticket or its draft does not exist."""

    status = 404


class NotAgent(DeskError):
    """The person deciding is not a support agent."""

    status = 403


class Incomplete(DeskError):
    """The decision lacks what it needs (a reply body, a reason)."""

    status = 422


def ticket_thread(ref: str) -> str:
    """Return the graph thread of a ticket's reply."""
    return f"ticket-{ref}"


def edit_size(before: str, after: str) -> int:
    """Return how many characters an agent changed (inserted, deleted or replaced)."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return sum(
        max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"
    )


@dataclass(frozen=True)
class QueueItem:
    """One ticket as an agent sees it: the ticket, the draft and its evidence."""

    ref: str
    ticket: Ticket
    record: TicketReply

    @property
    def citations(self) -> list[Source]:
        """Return the sources the draft was grounded in."""
        return [Source.model_validate(c) for c in json.loads(self.record.citations or "[]")]

    @property
    def needs_writing(self) -> bool:
        """Tell whether the ticket went to a person: no draft pretends to answer it."""
        return self.record.route == "human"


class SupportDesk:
    """Draft replies for intake tickets and apply agents' decisions."""

    def __init__(self, services: Services, runner: ChatRunner) -> None:
        self.services = services
        self.runner = runner
        self.engine = services.engine

    # -- drafting --------------------------------------------------------------------

    async def draft(self, row_id: int) -> TicketReply:
        """Draft the reply to helpdesk ticket ``row_id`` once; return its record."""
        existing = self._record(row_id)
        if existing is not None:
            return existing
        row = get_ticket(self.engine, row_id=row_id)
        if row is None:
            raise NotFound(f"no ticket {ticket_label(row_id)}")
        ticket, ref = as_ticket(row), ticket_label(row_id)
        thread = ticket_thread(ref)
        if await self.runner.pending_review(thread) is None:
            async for _ in self.runner.send_ticket(thread, ticket, ref=ref):
                pass
        state = await self.runner.state(thread)
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
        """Draft every intake ticket that has no reply yet (after a crash or a CLI add)."""
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
        """Return the tickets waiting for an agent, most urgent first, then oldest first."""
        with session_scope(self.engine) as session:
            records = list(
                session.exec(select(TicketReply).where(TicketReply.status == "waiting")).all()
            )
        records.sort(key=lambda r: (PRIORITY_ORDER.get(r.priority, 9), r.drafted_at))
        return [self._item(r) for r in records[:limit]]

    def waiting(self) -> int:
        """Return how many replies wait for an agent."""
        with session_scope(self.engine) as session:
            count = session.exec(
                select(func.count()).select_from(TicketReply).where(TicketReply.status == "waiting")
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
        decision = ReviewResponse(type="accept", user=agent)
        return await self._send(item, agent, decision, item.record.drafted_body)

    async def edit(self, ref: str, agent: str, body: str) -> TicketReply:
        """Send the agent's version of the reply."""
        body = body.strip()
        if not body:
            raise Incomplete("the reply is empty")
        item = self._waiting(ref, agent)
        decision = ReviewResponse(type="edit", args={"body": body}, user=agent)
        return await self._send(item, agent, decision, body)

    async def reject(self, ref: str, agent: str, reason: str) -> TicketReply:
        """Discard the draft, with the reason; nothing is sent."""
        reason = " ".join(reason.split())
        if not reason:
            raise Incomplete("say why the draft is rejected (e.g. wrong article, wrong tone)")
        item = self._waiting(ref, agent)
        decision = ReviewResponse(type="ignore", args={"reason": reason[:500]}, user=agent)
        await self._resume(item, decision)
        self._decide(item.record, agent, "rejected", status="rejected", reason=reason[:500])
        self.services.journal.event(
            "reply_rejected", actor=agent, thread=item.record.thread, ticket=item.ref, reason=reason
        )
        return self._record(item.record.ticket_id) or item.record

    async def _send(
        self, item: QueueItem, agent: str, decision: ReviewResponse, body: str
    ) -> TicketReply:
        results = await self._resume(item, decision)
        result = results[0] if results else {"status": "failed", "detail": "nothing was sent"}
        drafted = item.record.drafted_body
        changed = edit_size(drafted, body) if not item.needs_writing else len(body)
        kind = "accepted" if decision.type == "accept" or body == drafted.strip() else "edited"
        self._decide(
            item.record,
            agent,
            kind,
            status="sent" if result["status"] == "ok" else "failed",
            final_body=body,
            edit_chars=0 if kind == "accepted" else changed,
            delivery=f"{result['status']}: {result['detail']}"[:500],
        )
        return self._record(item.record.ticket_id) or item.record

    async def _resume(self, item: QueueItem, decision: ReviewResponse) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        try:
            async for event in self.runner.send_decision(item.record.thread, decision):
                if event["type"] == "dispatched":
                    results = event["results"]
        except InputError as exc:
            raise DeskError(str(exc)) from None
        return results

    # -- records ---------------------------------------------------------------------

    def check_agent(self, agent: str) -> None:
        """Refuse anyone who is not a support agent (once users are set up)."""
        directory = self.services.directory
        if directory.is_open():
            return
        roles = directory.roles_of(agent)
        if roles is None:
            raise NotAgent(f"{agent} is not a known user")
        if not AGENT_ROLES & set(roles):
            raise NotAgent(
                f"{agent} is not a support agent (needs the support or support_lead role)"
            )

    def _waiting(self, ref: str, agent: str) -> QueueItem:
        self.check_agent(agent)
        item = self.item(ref)
        if item.record.status != "waiting":
            by = f" by {item.record.agent}" if item.record.agent else ""
            raise DeskError(
                f"{item.ref} was already {item.record.decision or item.record.status}{by}"
            )
        return item

    def _decide(self, record: TicketReply, agent: str, decision: str, **fields: Any) -> None:
        with session_scope(self.engine) as session:
            stored = session.get(TicketReply, record.id)
            if stored is None:
                return
            stored.decision, stored.agent, stored.decided_at = decision, agent, utcnow()
            for name, value in fields.items():
                setattr(stored, name, value)
            session.add(stored)

    def _record(self, row_id: int) -> TicketReply | None:
        with session_scope(self.engine) as session:
            return session.exec(select(TicketReply).where(TicketReply.ticket_id == row_id)).first()

    def _item(self, record: TicketReply) -> QueueItem:
        row = get_ticket(self.engine, row_id=record.ticket_id)
        if row is None:
            raise NotFound(f"ticket {ticket_label(record.ticket_id)} is gone")
        return QueueItem(ref=ticket_label(record.ticket_id), ticket=as_ticket(row), record=record)
