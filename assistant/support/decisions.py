"""Carry an agent's decision on a reply through: claim the record, move the thread, record
what happened. Each step is written before the next starts, so a crash leaves a record that
says how far it got (``sending``, ``rejecting``), never one that says ``waiting``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine

from assistant.db.engine import session_scope
from assistant.db.tables import TicketReply, utcnow
from assistant.observability.metrics import ticket_decided
from assistant.schemas import ReviewResponse
from assistant.support.queue import DeskError, NotAgent, QueueItem
from graphs.nodes.support import deliver_reply
from graphs.runner import ChatRunner, InputError


async def drive(
    runner: ChatRunner, record: TicketReply, decision: ReviewResponse, *, again: bool = False
) -> list[dict[str, Any]]:
    """Move the reply's thread past its review and return what was delivered.

    A thread still at its review gets the decision; one cut off midway is finished; one
    already at its end is read back, or delivered ``again`` for a retry.
    """
    thread = record.thread
    if await runner.pending_review(thread) is not None:
        stream = runner.send_decision(thread, decision)
    elif await runner.unfinished(thread):
        stream = runner.resume(thread)
    elif again:
        state = await runner.state(thread)
        if state.get("decision") is None:
            raise DeskError(f"the reply on {thread} was never decided in its thread")
        delivered = await deliver_reply(state, runner.context)  # type: ignore[arg-type]
        return list(delivered["results"])
    else:
        return list((await runner.state(thread)).get("results") or [])
    results: list[dict[str, Any]] = []
    try:
        async for event in stream:
            if event["type"] == "dispatched":
                results = event["results"]
    except InputError as exc:
        raise DeskError(str(exc)) from None
    pending = await runner.pending_review(thread)
    if pending is not None:  # the review refused the decision and asks again
        refused = pending.action_request.args.get("refused") or {}
        reason = str(refused.get("reason") or "the review refused the decision")
        raise NotAgent(reason) if refused.get("forbidden") else DeskError(reason)
    return results


def stored_decision(record: TicketReply) -> ReviewResponse:
    """Return the decision a record stores, as the review takes it."""
    agent = record.agent or "anonymous"
    if record.decision == "rejected":
        return ReviewResponse(type="ignore", args={"reason": record.reason or ""}, user=agent)
    if record.decision == "edited":
        return ReviewResponse(type="edit", args={"body": record.final_body or ""}, user=agent)
    return ReviewResponse(type="accept", user=agent)


def claim(engine: Engine, item: QueueItem, before: str, after: str, **fields: Any) -> TicketReply:
    """Move the record from ``before`` to ``after`` unless someone else moved it first."""
    table = TicketReply.__table__  # type: ignore[attr-defined]
    values = {"status": after, **fields}
    if "decision" in fields:
        values["decided_at"] = utcnow()
    with session_scope(engine) as session:
        moved = session.execute(
            update(table)
            .where(table.c.id == item.record.id, table.c.status == before)
            .values(**values)
        )
        claimed = moved.rowcount == 1  # type: ignore[attr-defined]
    current = stored_record(engine, item.record.id)
    if not claimed or current is None:
        raise DeskError(
            already(replace(item, record=current)) if current else f"{item.ref} is gone"
        )
    if "decision" in fields:
        ticket_decided(str(fields["decision"]))
    return current


def store(engine: Engine, record: TicketReply, **fields: Any) -> None:
    """Write ``fields`` onto the stored ``record``."""
    with session_scope(engine) as session:
        stored = session.get(TicketReply, record.id)
        if stored is None:
            return
        for name, value in fields.items():
            setattr(stored, name, value)
        session.add(stored)


def stored_record(engine: Engine, record_id: int | None) -> TicketReply | None:
    """Return the reply record ``record_id`` as stored now."""
    with session_scope(engine) as session:
        return session.get(TicketReply, record_id) if record_id is not None else None


def already(item: QueueItem) -> str:
    """Say why a reply can no longer be decided: who decided it and what became of it."""
    record = item.record
    by = f" by {record.agent}" if record.agent else ""
    if record.status == "failed":
        return (
            f"{item.ref} was already {record.decision}{by}, but sending failed "
            f"({record.delivery}): retry the delivery instead"
        )
    if record.status in ("sending", "rejecting"):
        return f"{item.ref} is being {record.decision or 'decided'}{by}: wait for the outcome"
    return f"{item.ref} was already {record.decision or record.status}{by}"
