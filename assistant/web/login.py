"""Throttle password logins per user name and per client address, shared through the database.

Every attempt is counted before the password is checked (so parallel guesses cannot slip
past the count) and forgiven when it succeeds. After too many failures inside the window a
user name or address is locked out for a delay that doubles with each lockout; while locked
out, every attempt is refused with 429 and ``Retry-After``, the right password included. A
successful login clears the user name's count; an address keeps its own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.db.tables import LoginFailure, utcnow
from assistant.settings import Settings

FORM_LIMIT = 64 * 1024
"""Largest sign-in form read: a user name and a password, with room to spare."""


def aware(moment: datetime) -> datetime:
    """Return ``moment`` in UTC with its zone: SQLite hands times back without one."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Limit:
    """How many failures a kind of subject may have in the window before a lockout."""

    failures: int
    window: float
    lockout: float
    lockout_max: float

    def lockout_after(self, lockouts: int) -> float:
        """Return the lockout, in seconds, that follows the ``lockouts``-th one."""
        return min(self.lockout * 2 ** (lockouts - 1), self.lockout_max)


class LoginThrottle:
    """Count failed logins in the app database (replicas share the counts)."""

    def __init__(
        self,
        engine: Engine,
        *,
        user: Limit,
        address: Limit,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.limits = {"user": user, "address": address}
        self.clock = clock

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> LoginThrottle:
        """Return the throttle ``settings`` describe."""
        window, lockout, longest = (
            settings.login_window,
            settings.login_lockout,
            settings.login_lockout_max,
        )
        return cls(
            engine,
            user=Limit(settings.login_failures, window, lockout, longest),
            address=Limit(settings.login_address_failures, window, lockout, longest),
        )

    def attempt(self, *, user: str, address: str) -> float | None:
        """Count one attempt; return the seconds to wait if it must be refused, else None."""
        now = aware(self.clock())
        waits: list[float] = []
        with Session(self.engine, expire_on_commit=False) as session:
            self._lock(session)
            for kind, subject in self._subjects(user, address):
                row = session.get(LoginFailure, subject) or LoginFailure(subject=subject)
                wait = self._count(row, self.limits[kind], now)
                if wait is not None:
                    waits.append(wait)
                session.add(row)
            session.commit()
        return max(waits) if waits else None

    def succeeded(self, *, user: str, address: str) -> None:
        """Clear the user name's count and take back the attempt counted against the address."""
        with Session(self.engine) as session:
            self._lock(session)
            subjects = dict(self._subjects(user, address))
            session.execute(
                delete(LoginFailure).where(col(LoginFailure.subject) == subjects["user"])
            )
            row = session.get(LoginFailure, subjects["address"])
            if row is not None and row.failures > 0:
                row.failures -= 1
                session.add(row)
            session.commit()

    def forget_stale(self) -> None:
        """Drop counts untouched for longer than any window and lockout."""
        longest = max(limit.window + limit.lockout_max for limit in self.limits.values())
        cutoff = aware(self.clock()) - timedelta(seconds=longest)
        with Session(self.engine) as session:
            rows = session.exec(select(LoginFailure).where(col(LoginFailure.first_at) < cutoff))
            for row in rows.all():
                if row.locked_until is None or aware(row.locked_until) < cutoff:
                    session.delete(row)
            session.commit()

    def _lock(self, session: Session) -> None:
        # SQLite transactions start with BEGIN IMMEDIATE already; PostgreSQL needs a lock.
        if self.engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(4243)"))

    @staticmethod
    def _subjects(user: str, address: str) -> list[tuple[str, str]]:
        return [("user", f"user:{user.strip().casefold()}"), ("address", f"address:{address}")]

    @staticmethod
    def _count(row: LoginFailure, limit: Limit, now: datetime) -> float | None:
        """Count one attempt on ``row``; return the wait if it is locked out."""
        if row.locked_until is not None:
            until = aware(row.locked_until)
            if until > now:
                return (until - now).total_seconds()
            if (now - until).total_seconds() > limit.window:
                row.lockouts = 0  # a quiet window after the last lockout forgives it
            row.locked_until = None
        if row.failures == 0 or (now - aware(row.first_at)).total_seconds() > limit.window:
            row.failures, row.first_at = 0, now
        row.failures += 1
        if row.failures <= limit.failures:
            return None
        row.lockouts += 1
        row.failures = 0
        wait = limit.lockout_after(row.lockouts)
        row.locked_until = now + timedelta(seconds=wait)
        return wait


class LoginThrottleMiddleware:
    """Refuse throttled logins at ``path`` with 429 before the password is checked."""

    def __init__(self, app: ASGIApp, *, path: str, throttle: LoginThrottle) -> None:
        self.app = app
        self.path = path
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything through but password logins, which are counted first."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            await answer(send, 413, "The sign-in form is too large.")
            return
        user = await form_user(scope, body)
        address = (scope.get("client") or ("unknown", 0))[0]
        throttle = self.throttle
        wait = await run_in_threadpool(throttle.attempt, user=user, address=address)
        if wait is not None:
            await refuse(send, math.ceil(wait))
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, replaying(body, receive), watch)
        if status and status[0] < 400:
            await run_in_threadpool(throttle.succeeded, user=user, address=address)
        else:
            await run_in_threadpool(throttle.forget_stale)


async def read_body(receive: Receive) -> bytes | None:
    """Read a request's body; None when it is larger than ``FORM_LIMIT``."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > FORM_LIMIT:
            return None
        more = message.get("more_body", False)
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """Return a ``receive`` that hands out ``body`` again, then whatever comes next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def form_user(scope: Scope, body: bytes) -> str:
    """Return the user name of a sign-in form (url-encoded, or multipart as browsers send)."""

    async def disconnected() -> Message:
        return {"type": "http.disconnect"}

    try:
        form = await Request(scope, replaying(body, disconnected)).form()
    except (MultiPartException, ValueError):
        return ""
    user = form.get("username")
    return user if isinstance(user, str) else ""


async def refuse(send: Send, wait: int) -> None:
    """Answer 429 with ``Retry-After`` and a message the login page can show."""
    minutes = f"{math.ceil(wait / 60)} minute(s)" if wait >= 60 else f"{wait} second(s)"
    detail = f"Too many failed sign-ins for this user name or address: try again in {minutes}."
    await answer(send, 429, detail, [(b"retry-after", str(wait).encode())])


async def answer(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a JSON ``{"detail": ...}`` answer, as the sign-in route's own errors are."""
    payload = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
