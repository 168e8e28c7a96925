"""What the desk works with: queue items, the errors its actions refuse with, and edit size."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from assistant.db.tables import TicketReply
from assistant.schemas import Source, Ticket

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
