"""The journal: audit events, stored workflow versions and review claims, behind one service.

``SqlJournal`` writes to the app database; ``MemoryJournal`` keeps everything in lists for
tests and for graphs run without a database.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from assistant.db.audit import AuditLog
from assistant.db.engine import session_scope
from assistant.db.tables import DecisionClaim
from assistant.db.versions import save_version
from assistant.schemas import WorkflowDraft


class Journal(Protocol):
    """Where the graph records what happened."""

    def event(
        self, name: str, *, actor: str, thread: str, content_hash: str = "", **data: Any
    ) -> None:
        """Append an audit event."""
        ...

    def version(self, draft: WorkflowDraft, *, thread: str, author: str) -> None:
        """Store a workflow version (idempotent)."""
        ...

    def claim(self, review_id: str, *, thread: str, user: str, decision: str) -> str | None:
        """Claim the answer to a review; return the earlier claimant if someone was first."""
        ...

    def release(self, review_id: str) -> None:
        """Drop a claim whose answer could not be applied, so the review can be answered."""
        ...


class SqlJournal:
    """The journal in the app database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.audit = AuditLog(engine)

    def event(
        self, name: str, *, actor: str, thread: str, content_hash: str = "", **data: Any
    ) -> None:
        """Append an audit event."""
        self.audit.append(name, actor=actor, thread=thread, content_hash=content_hash, data=data)

    def version(self, draft: WorkflowDraft, *, thread: str, author: str) -> None:
        """Store a workflow version (idempotent)."""
        save_version(self.engine, draft=draft, thread=thread, author=author)

    def claim(self, review_id: str, *, thread: str, user: str, decision: str) -> str | None:
        """Claim the answer to a review; return the earlier claimant if someone was first."""
        try:
            with session_scope(self.engine) as session:
                existing = session.get(DecisionClaim, review_id)
                if existing is not None:
                    # The same person retrying (their first attempt died midway) may go on.
                    return None if existing.user == user else existing.user
                session.add(
                    DecisionClaim(review_id=review_id, thread=thread, user=user, decision=decision)
                )
        except IntegrityError:
            with session_scope(self.engine) as session:
                existing = session.get(DecisionClaim, review_id)
                return existing.user if existing else "another reviewer"
        return None

    def release(self, review_id: str) -> None:
        """Drop a claim whose answer could not be applied, so the review can be answered."""
        with session_scope(self.engine) as session:
            existing = session.get(DecisionClaim, review_id)
            if existing is not None:
                session.delete(existing)


class MemoryJournal:
    """The journal in memory."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.versions: list[WorkflowDraft] = []
        self.claims: dict[str, str] = {}

    def event(
        self, name: str, *, actor: str, thread: str, content_hash: str = "", **data: Any
    ) -> None:
        """Append an audit event."""
        self.events.append(
            {"event": name, "actor": actor, "thread": thread, "content_hash": content_hash, **data}
        )

    def version(self, draft: WorkflowDraft, *, thread: str, author: str) -> None:
        """Store a workflow version (idempotent)."""
        if not any(v.id == draft.id and v.version == draft.version for v in self.versions):
            self.versions.append(draft)

    def claim(self, review_id: str, *, thread: str, user: str, decision: str) -> str | None:
        """Claim the answer to a review; return the earlier claimant if someone was first."""
        if review_id in self.claims and self.claims[review_id] != user:
            return self.claims[review_id]
        self.claims[review_id] = user
        return None

    def release(self, review_id: str) -> None:
        """Drop a claim whose answer could not be applied."""
        self.claims.pop(review_id, None)
