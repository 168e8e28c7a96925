"""The append-only audit log: every record carries the hash of the one before it.

``verify`` walks the chain and names the first record that was altered, inserted or
deleted: an altered record no longer matches its own hash, an inserted or deleted one breaks
the link (``prev_hash``) or the sequence. Appends are serialised by the database (SQLite's
``BEGIN IMMEDIATE``; a row lock on PostgreSQL), so many processes can share one chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import col
from sqlmodel import select as model_select

from assistant.db.engine import session_scope
from assistant.db.tables import AuditRecord, utcnow
from assistant.schemas import canonical_json

GENESIS = "0" * 64


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` as naive UTC, however the database handed it back."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def record_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    thread: str,
    event: str,
    content_hash: str,
    data: str,
    prev_hash: str,
) -> str:
    """Return the sha256 that seals one record's fields and its link to the previous one."""
    body = canonical_json(
        {
            "seq": seq,
            "at": as_utc(at).isoformat(timespec="microseconds"),
            "actor": actor,
            "thread": thread,
            "event": event,
            "content_hash": content_hash,
            "data": data,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


def seal(record: AuditRecord) -> str:
    """Return the hash ``record`` should carry."""
    assert record.seq is not None
    return record_hash(
        seq=record.seq,
        at=record.at,
        actor=record.actor,
        thread=record.thread,
        event=record.event,
        content_hash=record.content_hash,
        data=record.data,
        prev_hash=record.prev_hash,
    )


class AuditLog:
    """Append and read audit events."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self,
        event: str,
        *,
        actor: str,
        thread: str = "",
        content_hash: str = "",
        data: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one event, chained to the current last record."""
        payload = json.dumps(data or {}, sort_keys=True, default=str)
        at = utcnow()
        # Core statements, not ORM objects: an append is on every node's path.
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(4242)"))
            table = AuditRecord.__table__  # type: ignore[attr-defined]
            last = conn.execute(
                select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
            ).first()
            fields: dict[str, Any] = {
                "seq": (last.seq + 1) if last else 1,
                "at": at,
                "actor": actor,
                "thread": thread,
                "event": event,
                "content_hash": content_hash,
                "data": payload,
                "prev_hash": last.hash if last else GENESIS,
            }
            fields["hash"] = record_hash(**fields)
            conn.execute(insert(table).values(**fields))
        return AuditRecord(**fields)

    def records(self, *, thread: str | None = None) -> list[AuditRecord]:
        """Return the records (of one thread, if given), in order."""
        with session_scope(self.engine) as session:
            query = model_select(AuditRecord).order_by(col(AuditRecord.seq))
            if thread is not None:
                query = query.where(AuditRecord.thread == thread)
            return list(session.exec(query).all())


@dataclass
class Finding:
    """One problem ``verify`` found."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.problem}"


def verify(log: AuditLog) -> list[Finding]:
    """Check the whole chain; return every problem found (empty when intact)."""
    findings: list[Finding] = []
    previous_hash = GENESIS
    expected_seq = 1
    for record in log.records():
        seq = record.seq or 0
        if seq != expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
            if seq > expected_seq:
                findings.append(Finding(seq, f"record(s) {missing} before it were deleted"))
            else:
                findings.append(Finding(seq, "sequence number repeats: inserted record"))
        if record.prev_hash != previous_hash:
            findings.append(
                Finding(
                    seq, "does not link to the record before it: a record was inserted or deleted"
                )
            )
        if seal(record) != record.hash:
            findings.append(Finding(seq, f"content was altered ({record.event} by {record.actor})"))
        previous_hash = record.hash
        expected_seq = seq + 1
    return findings
