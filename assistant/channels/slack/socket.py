"""Socket Mode: the same Slack app, connecting out to Slack instead of taking HTTP requests.

For a workspace that cannot reach the server (a laptop, a private network). Needs an
app-level token (``SLACK_APP_TOKEN``, scope ``connections:write``) and the bot token.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from assistant.channels.slack.app import SlackChannel
from assistant.channels.slack.notifier import run_notifier
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.web import runtime

log = logging.getLogger(__name__)


def socket_handler(services: Services, credentials: ConnectorSettings) -> AsyncSocketModeHandler:
    """Return the Socket Mode handler over a Slack channel using the running server runtime."""
    channel = SlackChannel(
        services,
        runtime.current,
        bot_token=credentials.slack_bot_token,
        api_url=services.settings.slack_api_url,
    )
    return AsyncSocketModeHandler(channel.app, credentials.slack_app_token)


async def run_socket_mode(services: Services, credentials: ConnectorSettings) -> None:
    """Connect to Slack and serve `/flowdraft`, buttons and modals until interrupted."""
    async with AsyncExitStack() as stack:
        await runtime.start(services, stack)
        handler = socket_handler(services, credentials)
        # Runs waiting for a person are put to them here too (each message goes out once).
        notifier = run_notifier(services, credentials)
        notifying = asyncio.create_task(notifier.keep_notifying()) if notifier else None
        try:
            log.warning("Flowdraft is connecting to Slack in Socket Mode; Ctrl-C stops it")
            await handler.start_async()
        finally:
            if notifying is not None:
                notifying.cancel()
            await handler.close_async()
            runtime.stop()
