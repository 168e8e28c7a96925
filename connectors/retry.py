"""Timeouts and bounded retries with backoff, for every connector that talks to a server."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from connectors.base import ActionResult

log = logging.getLogger(__name__)


class TransientError(Exception):
    """A failure worth retrying: a timeout, a 5xx, a 429 (with its Retry-After)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Read a Retry-After header: delay seconds, or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class PermanentError(Exception):
    """A failure that retrying cannot fix: bad credentials, a 4xx, an invalid channel."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, how long each may take, and how long to wait between them."""

    attempts: int = 3
    timeout: float = 10.0
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait before attempt ``attempt + 1``: Retry-After, else jittered backoff."""
        if retry_after is not None:
            return max(retry_after, 0.0)
        backoff = self.base_delay * (2 ** (attempt - 1))
        return min(backoff * (0.5 + random.random() / 2), self.max_delay)


async def with_retries(
    call: Callable[[], Awaitable[ActionResult]], policy: RetryPolicy, what: str
) -> ActionResult:
    """Run ``call`` with a timeout per attempt, retrying transient errors only."""
    last = ""
    for attempt in range(1, policy.attempts + 1):
        try:
            result = await asyncio.wait_for(call(), policy.timeout)
            if attempt > 1:
                result.detail = f"{result.detail} (after {attempt} attempts)"
            return result
        except TimeoutError:
            last, retry_after = f"timed out after {policy.timeout:g}s", None
        except TransientError as exc:
            last, retry_after = str(exc), exc.retry_after
            if retry_after is not None and retry_after > policy.max_delay:
                # Retrying sooner than the server allows would only be refused again.
                return ActionResult(
                    status="failed",
                    detail=f"{what}: {last}; the server asks to wait {retry_after:.0f}s, "
                    f"longer than the {policy.max_delay:.0f}s we wait",
                )
        except PermanentError as exc:
            return ActionResult(status="failed", detail=f"{what}: {exc}")
        if attempt < policy.attempts:
            wait = policy.delay(attempt, retry_after)
            log.info("%s: %s; retrying in %.2fs", what, last, wait)
            await asyncio.sleep(wait)
    return ActionResult(status="failed", detail=f"{what}: {last} ({policy.attempts} attempts)")
