"""Slack on loopback: the real server app with its bolt endpoint, a fake Web API, and signed
requests in Slack's exact wire formats (form-encoded commands, ``payload=`` interactions);
and the same app in Socket Mode, connected to a local Socket Mode server."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.signature import SignatureVerifier

from assistant.channels.slack.socket import socket_handler
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.web import runtime
from assistant.web.server import create_app
from tests.support.live import services_with, serving_app
from tests.support.servers import FakeSlack, SocketModeServer, serving

BOT_TOKEN = "xoxb-flowdraft-test"
APP_TOKEN = "xapp-1-A0FLOW-flowdraft-test"
APP_ID = "A0FLOW"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0FLOW"
CHANNEL = "C0FINANCE"


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Return all text of ``blocks`` (sections, headers, contexts, button labels), joined."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            out.append(block["text"]["text"])
        for element in block.get("elements") or []:
            # A context holds text objects; an actions block holds buttons with a label.
            label = element.get("text")
            out.append(label["text"] if isinstance(label, dict) else str(label or ""))
    return "\n".join(out)


def buttons(shown: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
    """Return the action ids of the buttons of a message, or of a list of blocks."""
    blocks = shown if isinstance(shown, list) else shown.get("blocks") or []
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def services_at(services: Services, home: Path, slack_api_url: str) -> Services:
    """Return ``services`` with a fresh app database and home, sharing the ingested store.

    Slack actions of approved workflows go to ``slack_api_url`` with the test bot token.
    """
    credentials = ConnectorSettings(slack_bot_token=BOT_TOKEN)
    return services_with(services, home, credentials, slack_api_url=slack_api_url)


@dataclass
class SlackWire:
    """Sign and send requests the way Slack does."""

    url: str
    fake: FakeSlack
    secret: str = SIGNING_SECRET
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def headers(
        self, body: bytes, *, timestamp: int | None = None, retry: int = 0
    ) -> dict[str, str]:
        """Return Slack's headers for ``body``: timestamp, v0 signature, optional retry count."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=stamp, body=body)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return headers

    def send(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST ``body`` to /slack/events, signed unless ``headers`` are given."""
        return self.client.post(self.url, content=body, headers=headers or self.headers(body))

    @staticmethod
    def command_body(
        text: str, *, user: str = "U0ANA", channel: str = CHANNEL, trigger: str | None = None
    ) -> bytes:
        """Return a `/flowdraft` slash command, form-encoded as Slack sends it."""
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM,
                "team_domain": "northwind",
                "channel_id": channel,
                "channel_name": "finance",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/flowdraft",
                "text": text,
                "api_app_id": "A0FLOW",
                "is_enterprise_install": "false",
                "response_url": "",
                "trigger_id": trigger or f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
            }
        ).encode()

    def command(self, text: str, *, user: str = "U0ANA", channel: str = CHANNEL) -> httpx.Response:
        """Send a slash command; its response_url points at the fake Slack."""
        body = self.command_body(text, user=user, channel=channel)
        body = body.replace(
            b"response_url=&", urlencode({"response_url": self.fake.response_url()}).encode() + b"&"
        )
        return self.send(body)

    @staticmethod
    def interaction_body(payload: dict[str, Any]) -> bytes:
        """Return an interactive payload as Slack posts it: ``payload=<json>``, form-encoded."""
        return urlencode({"payload": json.dumps(payload)}).encode()

    @staticmethod
    def click_payload(
        action_id: str, ts: str, *, user: str = "U0ANA", channel: str = CHANNEL
    ) -> dict[str, Any]:
        """Return a ``block_actions`` payload for a button on message ``ts``."""
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0FLOW",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
            "team": {"id": TEAM, "domain": "northwind"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "finance"},
            "message": {"type": "message", "ts": ts, "text": "draft"},
            "state": {"values": {}},
            "response_url": "",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "review",
                    "text": {"type": "plain_text", "text": action_id},
                    "value": action_id,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }

    def click(self, action_id: str, ts: str, *, user: str = "U0ANA") -> httpx.Response:
        """Click a button of message ``ts``."""
        return self.send(self.interaction_body(self.click_payload(action_id, ts, user=user)))

    def submit(
        self, view: dict[str, Any], values: dict[str, Any], *, user: str = "U0ANA"
    ) -> httpx.Response:
        """Submit a modal opened with ``view`` with these ``state.values``."""
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "northwind"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0FLOW",
            "token": "legacy-verification-token",
            "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
            "view": {
                "id": "V0001",
                "team_id": TEAM,
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "blocks": view["blocks"],
                "state": {"values": values},
                "hash": "1700000000.abc",
                "title": view["title"],
            },
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return self.send(self.interaction_body(payload))


@dataclass
class LiveSlack:
    """A running server with Slack configured, and the fake Slack it talks to."""

    wire: SlackWire
    fake: FakeSlack
    services: Services
    base_url: str


@contextmanager
def live_slack(
    services: Services, home: Path, *, emails: dict[str, str] | None = None
) -> Iterator[LiveSlack]:
    """Run ``flowdraft serve``'s app in-process on loopback with Slack pointed at a fake."""
    fake = FakeSlack(BOT_TOKEN, channels=(CHANNEL, "#finance", "#ops", "#ap-team"), emails=emails)
    with serving(fake):
        built = services_at(services, home, fake.url)
        credentials = ConnectorSettings(
            slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET
        )
        with serving_app(create_app(built, credentials)) as base:
            yield LiveSlack(SlackWire(f"{base}/slack/events", fake), fake, built, base)


def command_payload(
    text: str, *, user: str = "U0ANA", channel: str = CHANNEL, response_url: str = ""
) -> dict[str, str]:
    """Return a `/flowdraft` slash command as a Socket Mode envelope carries it: a dict."""
    body = SlackWire.command_body(text, user=user, channel=channel).decode()
    return dict(parse_qsl(body, keep_blank_values=True)) | {"response_url": response_url}


@dataclass
class LiveSocketSlack:
    """Flowdraft connected in Socket Mode, the Socket Mode server and the fake Web API."""

    server: SocketModeServer
    fake: FakeSlack
    services: Services
    handler: AsyncSocketModeHandler


@asynccontextmanager
async def live_socket_slack(
    services: Services, home: Path, *, emails: dict[str, str] | None = None
) -> AsyncIterator[LiveSocketSlack]:
    """Run `flowdraft slack --socket`'s handler, connected to a Socket Mode server on loopback.

    The runtime is started as ``run_socket_mode`` starts it; on exit the handler is closed,
    then the runtime, the fake Web API and the Socket Mode server.
    """
    fake = FakeSlack(
        BOT_TOKEN, channels=(CHANNEL, "#finance", "#ops"), emails=emails, app_token=APP_TOKEN
    )
    async with SocketModeServer(APP_ID) as server, AsyncExitStack() as stack:
        stack.enter_context(serving(fake))
        fake.socket_url = server.url
        built = services_at(services, home, fake.url)
        await runtime.start(built, stack)
        stack.callback(runtime.stop)
        credentials = ConnectorSettings(slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN)
        handler = socket_handler(built, credentials)
        stack.push_async_callback(handler.close_async)
        await handler.connect_async()
        await asyncio.wait_for(server.connected.wait(), timeout=10)
        yield LiveSocketSlack(server, fake, built, handler)


def shortcut_payload(
    text: str, ts: str, *, agent: str = "U0SAM", author: str = "U0CUST"
) -> dict[str, Any]:
    """Return a ``message_action`` payload: the "Draft a reply" shortcut on a message."""
    return {
        "type": "message_action",
        "callback_id": "flowdraft_draft_reply",
        "trigger_id": f"{time.time_ns()}.shortcut",
        "team": {"id": TEAM, "domain": "northwind"},
        "channel": {"id": CHANNEL, "name": "finance"},
        "user": {"id": agent, "username": agent.lower(), "team_id": TEAM},
        "message": {"type": "message", "user": author, "ts": ts, "text": text},
        "response_url": "",
        "message_ts": ts,
    }


def cards_for(slack: LiveSlack, user: str) -> list[dict[str, Any]]:
    """Return what the app posted to ``user`` directly (an agent's ticket cards)."""
    return [p for p in slack.fake.posted if p["channel"] == user]


def card_click(card: dict[str, Any], action_id: str, user: str) -> dict[str, Any]:
    """Return a click on a button of an agent's ticket card (a DM)."""
    payload = SlackWire.click_payload(action_id, card["ts"], user=user, channel=card["channel"])
    ref = next(e["value"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"])
    payload["actions"][0]["value"] = ref
    return payload
