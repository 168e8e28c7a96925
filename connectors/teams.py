"""Microsoft Teams: post a message card to a channel's incoming webhook (``TEAMS_WEBHOOK_URL``).

The webhook URL is a setting, not a step's param, so drafts never carry it. It must be
https (plain http only to this machine, for a local receiver) and its host allowed by the
policy's webhook hosts (``*.webhook.office.com``), like the webhook connector's URLs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlparse

import httpx
from pydantic import Field, field_validator

from assistant.observability.tracing import trace_headers
from connectors.base import ActionResult, Connector, Operation, OperationParams
from connectors.kinds import ConnectorSetup, register
from connectors.operations import line_break_in
from connectors.retry import (
    PermanentError,
    RetryPolicy,
    TransientError,
    parse_retry_after,
    with_retries,
)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class TeamsMessage(OperationParams):
    """Post a message card to the configured Teams channel."""

    text: str = Field(min_length=1, max_length=28_000)
    title: str | None = Field(default=None, max_length=200)

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        found = line_break_in(value) if value else None
        if found:
            raise ValueError(f"must be one line, but contains a line break ({found})")
        return value


def message_card(message: TeamsMessage) -> dict[str, Any]:
    """Return the MessageCard JSON a Teams incoming webhook accepts for ``message``."""
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.title or message.text[:80],
        "text": message.text,
    }
    if message.title:
        card["title"] = message.title
    return card


def url_problem(url: str, host_allowed: Callable[[str], bool]) -> str | None:
    """Return why the webhook URL may not be called: not https, or a host policy refuses."""
    parts = urlparse(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOOPBACK):
        return f"Teams webhook URL must be https, not {parts.scheme or 'no scheme'!r}"
    if not host or not host_allowed(host):
        return f"Teams webhook host {host or url!r} is not allowed by policy"
    return None


@register
class TeamsConnector(Connector):
    """Post message cards to a Microsoft Teams channel through its incoming webhook."""

    name = "teams"
    operations: ClassVar[Mapping[str, Operation]] = {
        "post_message": Operation(
            "post_message", TeamsMessage, "low", "Post a card to the Teams channel"
        ),
    }
    setup_hint: ClassVar[str] = "set TEAMS_WEBHOOK_URL (and allow its host in policy) to post"
    listed = 50

    @classmethod
    def from_setup(cls, setup: ConnectorSetup) -> Connector | None:
        """Build the connector when ``TEAMS_WEBHOOK_URL`` is set."""
        url = setup.credentials.teams_webhook_url
        if not url:
            return None
        return cls(url=url, host_allowed=setup.host_allowed, retry=setup.retry)

    def __init__(
        self,
        *,
        url: str,
        host_allowed: Callable[[str], bool],
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(sandbox=not url)
        self.url = url
        self.host_allowed = host_allowed
        self.retry = retry or RetryPolicy()

    async def perform(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Post the card once; a URL that is not https or not allowed is refused unsent."""
        assert isinstance(params, TeamsMessage)
        problem = url_problem(self.url, self.host_allowed)
        if problem is not None:
            return ActionResult(status="failed", detail=problem)
        body = json.dumps(message_card(params)).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            "User-Agent": "flowdraft",
            **trace_headers(),
        }
        return await with_retries(lambda: self._post(body, headers), self.retry, "teams.post")

    async def _post(self, body: bytes, headers: dict[str, str]) -> ActionResult:
        async with httpx.AsyncClient(timeout=self.retry.timeout) as client:
            try:
                response = await client.post(self.url, content=body, headers=headers)
            except httpx.TimeoutException as exc:
                raise TransientError(f"timed out: {exc}") from None
            except httpx.TransportError as exc:
                raise TransientError(f"cannot reach Teams: {exc}") from None
        if response.status_code == 429:
            raise TransientError(
                "rate limited (429)", parse_retry_after(response.headers.get("Retry-After"))
            )
        if response.status_code >= 500:
            raise TransientError(f"Teams answered {response.status_code}")
        if response.status_code >= 300:
            raise PermanentError(
                f"Teams refused with {response.status_code}: {response.text[:200]}"
            )
        host = urlparse(self.url).hostname
        return ActionResult(status="ok", detail=f"posted to Teams ({host})")
