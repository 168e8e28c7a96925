"""The Slack messages that put inbox items to people, kept in the app database.

Every step is claimed in the database before Slack is called (post, remind, close), so
any number of server processes polling the same inbox send each message once; a claim
whose message never got posted (the process died) is taken again after ``STALE``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from assistant.db.engine import session_scope
from assistant.db.tables import SlackNotice

STALE = timedelta(seconds=60)
"""How long a claimed, never-posted message stays claimed before it is tried again."""


def notice_id(item_id: str, audience: str) -> str:
    """Return the key of the message putting ``item_id`` to ``audience``."""
    return f"{item_id}|{audience}"


def claim_post(db: Engine, *, item_id: str, audience: str, role: str, now: datetime) -> bool:
    """Claim the right to post ``item_id`` to ``audience``; False when it is someone else's."""
    key = notice_id(item_id, audience)
    try:
        with session_scope(db) as session:
            session.add(
                SlackNotice(id=key, item_id=item_id, audience=audience, role=role, claimed_at=now)
            )
        return True
    except IntegrityError:
        pass
    with session_scope(db) as session:
        taken = session.execute(
            update(SlackNotice)
            .where(
                and_(
                    col(SlackNotice.id) == key,
                    col(SlackNotice.ts).is_(None),
                    col(SlackNotice.claimed_at) < now - STALE,
                )
            )
            .values(claimed_at=now)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def posted(db: Engine, *, item_id: str, audience: str, channel: str, ts: str) -> None:
    """Record where the message for ``audience`` was posted."""
    with session_scope(db) as session:
        row = session.get(SlackNotice, notice_id(item_id, audience))
        if row is not None:
            row.channel, row.ts = channel, ts
            session.add(row)


def open_notices(db: Engine) -> list[SlackNotice]:
    """Return the posted messages not yet closed with an outcome."""
    with session_scope(db) as session:
        query = select(SlackNotice).where(
            col(SlackNotice.closed_at).is_(None), col(SlackNotice.ts).is_not(None)
        )
        return list(session.exec(query).all())


def of_item(db: Engine, *, item_id: str) -> list[SlackNotice]:
    """Return every message about ``item_id``."""
    with session_scope(db) as session:
        return list(session.exec(select(SlackNotice).where(SlackNotice.item_id == item_id)).all())


def at(db: Engine, *, channel: str, ts: str) -> SlackNotice | None:
    """Return the notice posted as message ``ts`` in ``channel``, if it is one."""
    with session_scope(db) as session:
        query = select(SlackNotice).where(SlackNotice.channel == channel, SlackNotice.ts == ts)
        return session.exec(query).first()


def claim_reminder(db: Engine, *, key: str, now: datetime) -> bool:
    """Claim the reminder of notice ``key``; False when it was sent (or is being sent)."""
    return _set_once(db, key, "reminded_at", now)


def claim_close(db: Engine, *, key: str, now: datetime) -> bool:
    """Claim closing notice ``key`` with its outcome; False when it is closed already."""
    return _set_once(db, key, "closed_at", now)


def unclaim(db: Engine, *, key: str, reminder: bool) -> None:
    """Undo a reminder or close claim whose Slack call failed, so it is tried again."""
    column = "reminded_at" if reminder else "closed_at"
    with session_scope(db) as session:
        session.execute(
            update(SlackNotice).where(col(SlackNotice.id) == key).values({column: None})
        )


def _set_once(db: Engine, key: str, column: str, now: datetime) -> bool:
    """Set ``column`` of notice ``key`` to ``now`` if it is unset; tell whether it was."""
    with session_scope(db) as session:
        done = session.execute(
            update(SlackNotice)
            .where(col(SlackNotice.id) == key, col(getattr(SlackNotice, column)).is_(None))
            .values({column: now})
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]
