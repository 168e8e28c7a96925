"""The audit chain's seal: the HMAC key kept outside the database, and the head witness file.

Records are sealed with HMAC-SHA256 under a key that never enters the database, so someone
who can write the database but not read the key cannot recompute a chain they edited. The
key comes from ``FLOWDRAFT_AUDIT_KEY`` (replicas sharing one database must all set the same
value) or else from ``audit-key`` in the data directory, generated with 0600 permissions on
first use. After every append the process also writes the sequence number and hash of the
newest record it saw to a head file in the data directory: a witness outside the database
that still holds when the whole log, anchor included, is deleted or rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine

from assistant.schemas import canonical_json
from assistant.settings import Settings

KEY_FILE = "audit-key"
GENESIS = "0" * 64
HEAD_WIDTH = 128
"""Bytes of the head file: every write overwrites all of it, so no stale tail remains."""


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` as naive UTC, however the database handed it back."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def record_body(
    *,
    seq: int,
    at: datetime,
    actor: str,
    thread: str,
    event: str,
    content_hash: str,
    data: str,
    prev_hash: str,
) -> bytes:
    """Return the canonical bytes that one record's hash covers."""
    return canonical_json(
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
    ).encode()


def load_audit_key(settings: Settings) -> bytes:
    """Return the audit key: ``FLOWDRAFT_AUDIT_KEY``, else the key file, made on first use."""
    if settings.audit_key:
        return settings.audit_key.encode()
    path = settings.ensure_home() / KEY_FILE
    if not path.exists():
        # Written aside, then linked into place: a process starting at the same moment sees
        # either no key or the whole key, and two never keep different keys.
        spare = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(spare, path)
        except FileExistsError:
            pass
        finally:
            spare.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"the audit key file {path} is empty: restore it from your backup")
    return key.encode()


@dataclass
class AuditSeal:
    """The key that seals records, and where this process keeps its head witness."""

    key: bytes
    head_file: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _written: int = field(default=0, repr=False)
    _descriptor: int = field(default=-1, repr=False)

    def mac(self, body: bytes) -> str:
        """Return the HMAC-SHA256 of ``body`` under the key."""
        return hmac.new(self.key, body, hashlib.sha256).hexdigest()

    def matches(self, body: bytes, claimed: str) -> bool:
        """Tell whether ``claimed`` is the MAC of ``body``."""
        return hmac.compare_digest(self.mac(body), claimed)

    def remember(self, seq: int, record_hash: str) -> None:
        """Keep ``seq`` and its hash as this process's newest witness of the chain."""
        if self.head_file is None:
            return
        with self._lock:
            if seq <= self._written:
                return
            self._written = seq
            if self._descriptor < 0:
                self._descriptor = os.open(self.head_file, os.O_RDWR | os.O_CREAT, 0o600)
            # One fixed-width write in place: a rename per append would cost milliseconds.
            line = json.dumps({"seq": seq, "hash": record_hash}).ljust(HEAD_WIDTH - 1) + "\n"
            os.pwrite(self._descriptor, line.encode(), 0)

    def witness(self) -> tuple[int, str] | None:
        """Return the newest record this machine saw appended, if it kept one."""
        if self.head_file is None or not self.head_file.exists():
            return None
        text = self.head_file.read_text().strip()
        if not text:
            return None
        head = json.loads(text)
        return int(head["seq"]), str(head["hash"])


def head_file_for(settings: Settings, url: str) -> Path:
    """Return the head witness file of the database at ``url`` (one per database)."""
    database = hashlib.sha256(url.encode()).hexdigest()[:12]
    return settings.ensure_home() / f"audit-head-{database}.json"


_seals: WeakKeyDictionary[Engine, AuditSeal] = WeakKeyDictionary()
_seals_lock = threading.Lock()


def bind_audit_seal(engine: Engine, settings: Settings) -> AuditSeal:
    """Seal the audit records written through ``engine`` with the key ``settings`` name."""
    seal = AuditSeal(
        key=load_audit_key(settings),
        head_file=head_file_for(settings, engine.url.render_as_string(hide_password=True)),
    )
    with _seals_lock:
        _seals[engine] = seal
    return seal


def seal_for(engine: Engine) -> AuditSeal:
    """Return the seal bound to ``engine``, binding the configured one on first use."""
    with _seals_lock:
        found = _seals.get(engine)
    return found if found is not None else bind_audit_seal(engine, Settings())
