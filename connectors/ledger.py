"""The action ledger and dispatch leases: what makes dispatch happen exactly once.

Before a connector is called the action is recorded as ``started``; after, its result. A
resumed dispatch skips actions recorded ``ok`` and retries the others with the same
idempotency key, which the connectors pass on so receivers drop duplicates. A lease per
thread keeps two live processes from dispatching the same thread at once; a lease whose
owner died (same host, process gone) or expired is taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from assistant.db.engine import session_scope
from assistant.db.tables import ActionRecord, DispatchLease, utcnow
from connectors.base import ActionResult

LEASE_SECONDS = 120


def process_owner() -> str:
    """Return an id for this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool:
    """Tell whether the process named by ``owner`` may still be running."""
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: only the lease expiry can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def aware(moment: datetime) -> datetime:
    """Return ``moment`` with UTC attached (SQLite hands back naive datetimes)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Entry:
    """What the ledger holds for one idempotency key."""

    status: str
    detail: str
    external_id: str | None
    attempts: int


class Ledger(Protocol):
    """Where dispatch records actions and takes leases."""

    def begin(
        self,
        key: str,
        *,
        thread: str,
        content_hash: str,
        step_id: str,
        connector: str,
        operation: str,
        owner: str,
    ) -> Entry | None:
        """Record ``key`` as started; return the earlier entry if it was already ``ok``."""
        ...

    def finish(self, key: str, result: ActionResult) -> None:
        """Record the result of the action for ``key``."""
        ...

    def acquire(self, thread: str, owner: str) -> bool:
        """Take the dispatch lease of ``thread``; False if a live process holds it."""
        ...

    def renew(self, thread: str, owner: str) -> None:
        """Extend a held lease."""
        ...

    def release(self, thread: str, owner: str) -> None:
        """Give a lease back."""
        ...


class SqlLedger:
    """The ledger in the app database, shared by every process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def begin(
        self,
        key: str,
        *,
        thread: str,
        content_hash: str,
        step_id: str,
        connector: str,
        operation: str,
        owner: str,
    ) -> Entry | None:
        """Record ``key`` as started; return the earlier entry if it was already ``ok``."""
        with session_scope(self.engine) as session:
            record = session.get(ActionRecord, key)
            if record is not None and record.status == "ok":
                return Entry(record.status, record.detail, record.external_id, record.attempts)
            if record is None:
                record = ActionRecord(
                    idempotency_key=key,
                    thread=thread,
                    content_hash=content_hash,
                    step_id=step_id,
                    connector=connector,
                    operation=operation,
                    status="started",
                )
            record.status = "started"
            record.owner = owner
            record.attempts += 1
            record.started_at = utcnow()
            session.add(record)
        return None

    def finish(self, key: str, result: ActionResult) -> None:
        """Record the result of the action for ``key``."""
        with session_scope(self.engine) as session:
            record = session.get(ActionRecord, key)
            if record is None:
                return
            record.status = result.status
            record.detail = result.detail
            record.external_id = result.external_id
            record.finished_at = utcnow()
            session.add(record)

    def acquire(self, thread: str, owner: str) -> bool:
        """Take the dispatch lease of ``thread``; False if a live process holds it."""
        now = utcnow()
        try:
            with session_scope(self.engine) as session:
                lease = session.get(DispatchLease, thread)
                if lease is not None and lease.owner != owner:
                    if aware(lease.expires_at) > now and owner_alive(lease.owner):
                        return False
                    # Take over only the lease we saw: if another process renewed or took it
                    # meanwhile, the guarded delete touches nothing and we back off.
                    table = DispatchLease.__table__  # type: ignore[attr-defined]
                    gone = session.execute(
                        delete(table).where(
                            table.c.thread == thread,
                            table.c.owner == lease.owner,
                            table.c.expires_at == lease.expires_at,
                        )
                    )
                    if gone.rowcount != 1:  # type: ignore[attr-defined]
                        return False
                    session.expunge(lease)
                    lease = None
                if lease is None:
                    lease = DispatchLease(thread=thread, owner=owner, expires_at=now)
                lease.expires_at = now + timedelta(seconds=LEASE_SECONDS)
                session.add(lease)
        except IntegrityError:
            return False  # another process took it between our read and write
        return True

    def renew(self, thread: str, owner: str) -> None:
        """Extend a held lease."""
        with session_scope(self.engine) as session:
            lease = session.get(DispatchLease, thread)
            if lease is not None and lease.owner == owner:
                lease.expires_at = utcnow() + timedelta(seconds=LEASE_SECONDS)
                session.add(lease)

    def release(self, thread: str, owner: str) -> None:
        """Give a lease back."""
        with session_scope(self.engine) as session:
            lease = session.get(DispatchLease, thread)
            if lease is not None and lease.owner == owner:
                session.delete(lease)

    def entries(self, thread: str) -> list[ActionRecord]:
        """Return the ledger entries of a thread (for inspection and tests)."""
        from sqlmodel import select

        with session_scope(self.engine) as session:
            return list(
                session.exec(select(ActionRecord).where(ActionRecord.thread == thread)).all()
            )


class MemoryLedger:
    """An in-process ledger for tests and for dispatch without a database."""

    def __init__(self) -> None:
        self.records: dict[str, Entry] = {}
        self.leases: dict[str, str] = {}

    def begin(
        self,
        key: str,
        *,
        thread: str,
        content_hash: str,
        step_id: str,
        connector: str,
        operation: str,
        owner: str,
    ) -> Entry | None:
        """Record ``key`` as started; return the earlier entry if it was already ``ok``."""
        entry = self.records.get(key)
        if entry is not None and entry.status == "ok":
            return entry
        self.records[key] = Entry("started", "", None, (entry.attempts if entry else 0) + 1)
        return None

    def finish(self, key: str, result: ActionResult) -> None:
        """Record the result of the action for ``key``."""
        entry = self.records.get(key)
        attempts = entry.attempts if entry else 1
        self.records[key] = Entry(result.status, result.detail, result.external_id, attempts)

    def acquire(self, thread: str, owner: str) -> bool:
        """Take the lease unless another owner holds it."""
        holder = self.leases.setdefault(thread, owner)
        return holder == owner

    def renew(self, thread: str, owner: str) -> None:
        """Leases do not expire in memory."""

    def release(self, thread: str, owner: str) -> None:
        """Give a lease back."""
        if self.leases.get(thread) == owner:
            del self.leases[thread]
