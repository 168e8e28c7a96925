"""The append-only audit log: a chain of records sealed with a key kept outside the database.

Every record carries the hash of the one before it, and its own hash is an HMAC-SHA256 under
the audit key (``assistant.db.audit_seal``): without the key nobody can recompute a chain
they edited. An anchor row holds the newest record's seq and hash, sealed with the same key
and updated in the same transaction as each append, so records cut from the end are missed.
Appends are serialised by the database (SQLite's ``BEGIN IMMEDIATE``; an advisory lock on
PostgreSQL), so many processes can share one chain.

A chain written before the key existed is kept as it is: the first append under the key
records an ``audit_keyed`` event linked to the old head, and the anchor remembers the last
unkeyed seq. ``verify`` checks those older records with their plain sha256 and everything
after with the key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import col
from sqlmodel import select as model_select

from assistant.db.audit_check import ANCHOR_EVENT, KEYED_EVENT, Finding, check_chain
from assistant.db.audit_seal import GENESIS, AuditSeal, record_body, seal_for
from assistant.db.audit_seal import as_utc as as_utc
from assistant.db.engine import session_scope
from assistant.db.tables import AuditAnchor, AuditRecord, utcnow

__all__ = ["GENESIS", "AuditLog", "Finding", "as_utc", "record_hash", "verify"]

AUDIT_ACTOR = "flowdraft"

# Statements built once: an append is on every node's path.
RECORDS = AuditRecord.__table__  # type: ignore[attr-defined]
ANCHORS = AuditAnchor.__table__  # type: ignore[attr-defined]
ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(4242)")
LAST_RECORD = select(RECORDS.c.seq, RECORDS.c.hash).order_by(RECORDS.c.seq.desc()).limit(1)
READ_ANCHOR = select(ANCHORS.c.seq, ANCHORS.c.hash, ANCHORS.c.legacy_until, ANCHORS.c.mac)
INSERT_RECORD = insert(RECORDS)
INSERT_ANCHOR = insert(ANCHORS).values(id=1)
UPDATE_ANCHOR = update(ANCHORS)


def record_hash(**fields: Any) -> str:
    """Return the plain sha256 that sealed records written before the chain was keyed."""
    return hashlib.sha256(record_body(**fields)).hexdigest()


def anchor_body(seq: int, head_hash: str, legacy_until: int) -> bytes:
    """Return the bytes the anchor's MAC covers."""
    return f"audit-anchor|{seq}|{head_hash}|{legacy_until}".encode()


@dataclass
class Head:
    """Where the next record goes: its seq and link, and what the anchor must say."""

    seq: int
    prev: str
    legacy_until: int
    anchor_exists: bool
    marker: tuple[str, dict[str, Any]] | None = None


@dataclass
class Snapshot:
    """The whole chain and its anchor, read in one transaction."""

    records: list[AuditRecord]
    anchor: AuditAnchor | None


class AuditLog:
    """Append and read audit events."""

    def __init__(self, engine: Engine, seal: AuditSeal | None = None) -> None:
        self.engine = engine
        self.seal = seal or seal_for(engine)

    def append(
        self,
        event: str,
        *,
        actor: str,
        thread: str = "",
        content_hash: str = "",
        data: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one event, chained to the anchored head, and move the anchor to it."""
        with self.engine.begin() as conn:
            self._lock(conn)
            head = self._head(conn)
            seq, prev = head.seq, head.prev
            if head.marker is not None:
                # No valid anchor over existing records: seal the evidence before going on.
                name, facts = head.marker
                record = self._write(conn, seq, prev, name, AUDIT_ACTOR, "", "", facts)
                seq, prev = seq + 1, record["hash"]
            record = self._write(conn, seq, prev, event, actor, thread, content_hash, data)
            self._move_anchor(conn, seq, record["hash"], head.legacy_until, head.anchor_exists)
        self.seal.remember(seq, record["hash"])
        return AuditRecord(**record)

    def records(self, *, thread: str | None = None) -> list[AuditRecord]:
        """Return the records (of one thread, if given), in order."""
        with session_scope(self.engine) as session:
            query = model_select(AuditRecord).order_by(col(AuditRecord.seq))
            if thread is not None:
                query = query.where(AuditRecord.thread == thread)
            return list(session.exec(query).all())

    def snapshot(self) -> Snapshot:
        """Return every record and the anchor as of one moment, with appends held off."""
        with self.engine.begin() as conn:
            self._lock(conn)
            rows = conn.execute(select(RECORDS).order_by(RECORDS.c.seq)).mappings().all()
            anchor = conn.execute(select(ANCHORS)).mappings().first()
        return Snapshot(
            records=[AuditRecord(**row) for row in rows],
            anchor=AuditAnchor(**anchor) if anchor else None,
        )

    def anchor_valid(self, anchor: AuditAnchor) -> bool:
        """Tell whether ``anchor`` carries the key's seal."""
        return self.seal.matches(
            anchor_body(anchor.seq, anchor.hash, anchor.legacy_until), anchor.mac
        )

    def _lock(self, conn: Connection) -> None:
        if self.engine.dialect.name == "postgresql":
            conn.execute(ADVISORY_LOCK)

    def _head(self, conn: Connection) -> Head:
        """Return where the next record goes, read under the append lock."""
        last = conn.execute(LAST_RECORD).first()
        anchor = conn.execute(READ_ANCHOR).first()
        last_seq, last_hash = (last.seq, last.hash) if last else (0, GENESIS)
        if anchor is not None and self.seal.matches(
            anchor_body(anchor.seq, anchor.hash, anchor.legacy_until), anchor.mac
        ):
            # Link to the anchored head, not the last row: a cut tail stays a visible gap, and
            # rows added past the head stay unlinked.
            return Head(max(anchor.seq, last_seq) + 1, anchor.hash, anchor.legacy_until, True)
        if anchor is None and last is None:
            return Head(1, GENESIS, 0, False)
        if anchor is None:
            marker = {"unkeyed_records": last_seq, "note": "records up to here predate the key"}
            return Head(last_seq + 1, last_hash, last_seq, False, (KEYED_EVENT, marker))
        claimed = {"anchor_seq": anchor.seq, "anchor_hash": anchor.hash, "last_seq": last_seq}
        legacy_until = min(anchor.legacy_until, last_seq)
        return Head(last_seq + 1, last_hash, legacy_until, True, (ANCHOR_EVENT, claimed))

    def _write(
        self,
        conn: Connection,
        seq: int,
        prev: str,
        event: str,
        actor: str,
        thread: str,
        content_hash: str,
        data: dict[str, Any] | None,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "seq": seq,
            "at": utcnow(),
            "actor": actor,
            "thread": thread,
            "event": event,
            "content_hash": content_hash,
            "data": json.dumps(data or {}, sort_keys=True, default=str),
            "prev_hash": prev,
        }
        fields["hash"] = self.seal.mac(record_body(**fields))
        conn.execute(INSERT_RECORD, fields)
        return fields

    def _move_anchor(
        self, conn: Connection, seq: int, head_hash: str, legacy_until: int, exists: bool
    ) -> None:
        values = {
            "seq": seq,
            "hash": head_hash,
            "legacy_until": legacy_until,
            "mac": self.seal.mac(anchor_body(seq, head_hash, legacy_until)),
        }
        conn.execute(UPDATE_ANCHOR if exists else INSERT_ANCHOR, values)


def verify(log: AuditLog) -> list[Finding]:
    """Check the whole chain; return every problem found (empty when intact)."""
    snapshot = log.snapshot()
    anchor = snapshot.anchor
    return check_chain(
        snapshot.records,
        seal=log.seal,
        anchor=anchor,
        anchor_valid=anchor is not None and log.anchor_valid(anchor),
        legacy_hash=lambda body: hashlib.sha256(body).hexdigest(),
    )
