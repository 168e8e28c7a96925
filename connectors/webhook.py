"""Webhooks: POST JSON with an Idempotency-Key and an HMAC-SHA256 signature, to allowed hosts."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlparse

import httpx

from assistant.observability.tracing import trace_headers
from connectors.base import ActionResult, Connector, Operation, OperationParams
from connectors.kinds import ConnectorSetup, register
from connectors.operations import PostJson, is_runtime
from connectors.retry import (
    PermanentError,
    RetryPolicy,
    TransientError,
    parse_retry_after,
    with_retries,
)

if TYPE_CHECKING:
    from assistant.policy.rules import Destinations
    from assistant.schemas import Step

SIGNATURE_HEADER = "X-Flowdraft-Signature"


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value for ``body``: ``sha256=<hex hmac>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """Tell whether ``header`` is the right signature of ``body`` (for receivers and tests)."""
    return hmac.compare_digest(sign(secret, body), header or "")


@register
class WebhookConnector(Connector):
    """POST JSON to hosts the policy allows."""

    name = "webhook"
    operations: ClassVar[Mapping[str, Operation]] = {
        "post_json": Operation("post_json", PostJson, "medium", "POST JSON to a URL"),
    }
    setup_hint: ClassVar[str] = (
        "set FLOWDRAFT_WEBHOOK_SECRET and allow the host in policy to call it for real"
    )
    listed = 30

    @classmethod
    def from_setup(cls, setup: ConnectorSetup) -> Connector | None:
        """Build the connector when ``FLOWDRAFT_WEBHOOK_SECRET`` is set."""
        secret = setup.settings.webhook_secret
        if not secret:
            return None
        return cls(secret=secret, host_allowed=setup.host_allowed, retry=setup.retry)

    @classmethod
    def destination_problem(cls, step: Step, where: Destinations) -> str | None:
        """Refuse URLs whose host the policy does not allow, or that only a run knows."""
        from assistant.policy.destinations import APPROVAL_MATRIX
        from assistant.policy.endpoints import normalize_url

        url = str(step.params.get("url", ""))
        if is_runtime(url):
            return f"Webhook URL {url} is only known at run time, so its host cannot be checked"
        host = normalize_url(url).split("://", 1)[-1].split("/", 1)[0]
        if not where.host_allowed(host):
            return f"Webhook host {host or url!r} is not on the allowed list ({APPROVAL_MATRIX})"
        return None

    def __init__(
        self,
        *,
        secret: str,
        host_allowed: Callable[[str], bool],
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(sandbox=not secret)
        self.secret = secret
        self.host_allowed = host_allowed
        self.retry = retry or RetryPolicy()
        self.transport = transport

    async def perform(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """POST the payload; the receiver dedupes on the Idempotency-Key header."""
        assert isinstance(params, PostJson)
        host = urlparse(params.url).hostname or ""
        if not self.host_allowed(host):
            return ActionResult(
                status="failed", detail=f"webhook host {host!r} is not allowed by policy"
            )
        body = json.dumps(params.payload, sort_keys=True, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            SIGNATURE_HEADER: sign(self.secret, body),
            "User-Agent": "flowdraft",
            **trace_headers(),  # the receiver's trace continues the run's
        }
        return await with_retries(
            lambda: self._post(params.url, body, headers), self.retry, "webhook.post_json"
        )

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> ActionResult:
        async with httpx.AsyncClient(
            timeout=self.retry.timeout, transport=self.transport
        ) as client:
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.TimeoutException as exc:
                raise TransientError(f"timed out: {exc}") from None
            except httpx.TransportError as exc:
                raise TransientError(f"cannot reach {url}: {exc}") from None
        if response.status_code == 429:
            raise TransientError(
                "rate limited (429)", parse_retry_after(response.headers.get("Retry-After"))
            )
        if response.status_code >= 500:
            raise TransientError(f"server error {response.status_code}")
        if 300 <= response.status_code < 400:
            # Redirects are not followed: a POST must not silently land somewhere else.
            raise PermanentError(
                f"redirected ({response.status_code}) to {response.headers.get('Location', '?')}"
            )
        if response.status_code >= 400:
            raise PermanentError(f"refused with {response.status_code}: {response.text[:200]}")
        return ActionResult(
            status="ok",
            detail=f"POST {url} -> {response.status_code}",
            external_id=response.headers.get("X-Request-Id"),
        )
