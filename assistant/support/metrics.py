"""How the desk is doing, overall and per agent: acceptance, edits, rejections, response time.

- acceptance rate: drafts sent unchanged, over decided drafts;
- edit rate: drafts sent after the agent changed them, over decided drafts;
- edit size: characters changed per edited reply (mean and median);
- rejection reasons: how often each reason was given;
- time to first response: from the ticket's arrival to the reply being sent (median, p90).
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from assistant.db.audit import as_utc
from assistant.db.engine import session_scope
from assistant.db.tables import HelpdeskTicket, TicketReply


def desk_stats(engine: Engine) -> dict[str, Any]:
    """Return the desk's metrics: ``overall``, ``agents`` (by name) and the queue's size."""
    with session_scope(engine) as session:
        pairs = list(
            session.exec(
                select(TicketReply, HelpdeskTicket).where(
                    TicketReply.ticket_id == HelpdeskTicket.id
                )
            ).all()
        )
    decided = [(r, t) for r, t in pairs if r.decision]
    agents = sorted({r.agent for r, _ in decided if r.agent})
    return {
        "tickets": len(pairs),
        "waiting": sum(1 for r, _ in pairs if r.status == "waiting"),
        "routed_to_human": sum(1 for r, _ in pairs if r.route == "human"),
        "overall": summarise(decided),
        "agents": {
            name: summarise([(r, t) for r, t in decided if r.agent == name]) for name in agents
        },
    }


def summarise(decided: list[tuple[TicketReply, HelpdeskTicket]]) -> dict[str, Any]:
    """Return the metrics of a set of decided drafts."""
    count = len(decided)
    kinds = Counter(r.decision for r, _ in decided)
    edits = [r.edit_chars for r, _ in decided if r.decision == "edited"]
    waits = sorted(
        (as_utc(r.decided_at) - as_utc(t.created_at)).total_seconds()
        for r, t in decided
        if r.status == "sent" and r.decided_at is not None
    )
    return {
        "decided": count,
        "accepted": kinds["accepted"],
        "edited": kinds["edited"],
        "rejected": kinds["rejected"],
        "acceptance_rate": round(kinds["accepted"] / count, 3) if count else None,
        "edit_rate": round(kinds["edited"] / count, 3) if count else None,
        "rejection_rate": round(kinds["rejected"] / count, 3) if count else None,
        "edit_chars_mean": round(statistics.fmean(edits), 1) if edits else None,
        "edit_chars_median": statistics.median(edits) if edits else None,
        "rejection_reasons": dict(
            Counter(r.reason for r, _ in decided if r.decision == "rejected" and r.reason)
        ),
        "first_response_median_s": round(statistics.median(waits), 1) if waits else None,
        "first_response_p90_s": round(waits[min(len(waits) - 1, int(0.9 * len(waits)))], 1)
        if waits
        else None,
    }
