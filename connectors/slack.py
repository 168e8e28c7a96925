"""Slack: post messages through slack_sdk's Web API client (base URL configurable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from connectors.base import ActionResult, Connector, Operation, OperationParams
from connectors.kinds import ConnectorSetup, register
from connectors.operations import PostMessage, is_runtime
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

TRANSIENT_SLACK_ERRORS = {
    "ratelimited",
    "service_unavailable",
    "request_timeout",
    "internal_error",
    "fatal_error",
}


@register
class SlackConnector(Connector):
    """Post to Slack channels with a bot token."""

    name = "slack"
    operations: ClassVar[Mapping[str, Operation]] = {
        "post_message": Operation("post_message", PostMessage, "low", "Post to a Slack channel"),
    }
    setup_hint: ClassVar[str] = "set SLACK_BOT_TOKEN to post for real"
    listed = 10

    @classmethod
    def from_setup(cls, setup: ConnectorSetup) -> Connector | None:
        """Build the connector when ``SLACK_BOT_TOKEN`` is set."""
        token = setup.credentials.slack_bot_token
        if not token:
            return None
        return cls(token=token, base_url=setup.settings.slack_api_url, retry=setup.retry)

    @classmethod
    def destination_problem(cls, step: Step, where: Destinations) -> str | None:
        """Refuse channels the policy does not allow (only public #channels)."""
        from assistant.policy.destinations import APPROVAL_MATRIX

        channel = str(step.params.get("channel", ""))
        if not is_runtime(channel) and not where.slack_channel.match(channel):
            return f"Slack channel {channel!r} is not allowed: only public #channels ({APPROVAL_MATRIX})"
        return None

    def __init__(
        self,
        *,
        token: str,
        base_url: str = "https://slack.com/api/",
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(sandbox=not token)
        self.retry = retry or RetryPolicy()
        self.client = AsyncWebClient(
            token=token or None, base_url=base_url, timeout=int(self.retry.timeout) or 1
        )
        # Retries are ours (uniform across connectors); turn off slack_sdk's own.
        self.client.retry_handlers = []

    async def perform(
        self, operation: str, params: OperationParams, idempotency_key: str
    ) -> ActionResult:
        """Post the message; Slack's own dedupe is our idempotency key in the metadata."""
        assert isinstance(params, PostMessage)
        return await with_retries(
            lambda: self._post(params, idempotency_key), self.retry, "slack.post_message"
        )

    async def _post(self, params: PostMessage, key: str) -> ActionResult:
        kwargs: dict[str, Any] = {
            "channel": params.channel,
            "text": params.text,
            "metadata": {
                "event_type": "flowdraft_action",
                "event_payload": {"idempotency_key": key},
            },
        }
        if params.blocks:
            kwargs["blocks"] = params.blocks
        if params.thread_ts:
            kwargs["thread_ts"] = params.thread_ts
        try:
            response = await self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = (
                str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
            )
            if status == 429:
                headers = exc.response.headers
                retry_after = headers.get("Retry-After") or headers.get("retry-after")
                raise TransientError("rate limited (429)", parse_retry_after(retry_after)) from None
            if status >= 500 or error in TRANSIENT_SLACK_ERRORS:
                raise TransientError(f"Slack error {status} {error}".strip()) from None
            raise PermanentError(f"Slack refused: {error or status}") from None
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise TransientError(f"cannot reach Slack: {exc}") from None
        ts = str(response.get("ts", ""))
        return ActionResult(
            status="ok", detail=f"posted to {params.channel} (ts {ts})", external_id=ts
        )
