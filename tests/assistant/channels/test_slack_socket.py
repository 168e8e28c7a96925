"""Slack in Socket Mode end to end: `flowdraft slack --socket`'s handler connects out to a
Socket Mode server on loopback, takes envelopes over the websocket and answers them, while
its Web API calls go to the local fake Slack. No internet."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from assistant.channels.slack import socket as socket_module
from assistant.channels.slack.blocks import APPROVE, EDIT, REJECT
from assistant.channels.slack.socket import run_socket_mode, socket_handler
from assistant.db.users import add_user, link_slack
from assistant.services import Services
from assistant.settings import ConnectorSettings
from tests.assistant.channels.test_slack_app import EMAILS, GOAL
from tests.support.servers import FakeSlack, SocketModeServer, serving
from tests.support.slack import (
    APP_ID,
    APP_TOKEN,
    BOT_TOKEN,
    CHANNEL,
    LiveSocketSlack,
    SlackWire,
    blocks_text,
    buttons,
    command_payload,
    live_socket_slack,
    services_at,
)

pytestmark = pytest.mark.integration

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep slack_sdk's websocket on loopback: it takes a proxy from the environment."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


async def other_tasks(timeout: float = 3.0) -> list[asyncio.Task[object]]:
    """Return the tasks still unfinished once ``timeout`` has passed (or none are left)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        if not left or asyncio.get_running_loop().time() > deadline:
            return left
        await asyncio.sleep(0.05)


def add_people(live: LiveSocketSlack) -> None:
    """Ana (manager) asks; Carla (CFO) is found through her Slack profile's email."""
    engine = live.services.engine
    add_user(engine, name="ana", roles=["manager"])
    link_slack(engine, name="ana", slack_user_id="U0ANA")
    add_user(engine, name="carla", roles=["cfo"], email=EMAILS["U0CARLA"])


async def test_socket_mode_drafts_and_approves_over_a_loopback_websocket(
    services: Services, tmp_path: Path
) -> None:
    async with asyncio.timeout(20):
        async with live_socket_slack(services, tmp_path / "home", emails=EMAILS) as live:
            add_people(live)
            fake, server = live.fake, live.server
            # The websocket URL came from apps.connections.open, which takes only the app token.
            assert fake.methods() == ["apps.connections.open"] and server.connections == 1

            help_ack = await server.deliver(
                "slash_commands", command_payload("help"), accepts_response_payload=True
            )
            assert "/flowdraft ask" in help_ack["payload"]["text"]
            assert help_ack["payload"]["blocks"][0]["type"] == "section"

            # `/flowdraft <goal>`: the ack travels back on the socket, tied to its envelope.
            command = command_payload(GOAL, user="U0ANA", response_url=fake.response_url())
            ack = await server.deliver("slash_commands", command, accepts_response_payload=True)
            assert set(ack) == {"envelope_id", "payload"}
            assert "Drafting a workflow for" in ack["payload"]["text"]
            assert ack["payload"]["response_type"] == "ephemeral"

            # The drafting runs after the ack: posted in the channel, then shown with buttons.
            posted = (await fake.wait_for_async(lambda: fake.posted))[0]
            ts = posted["ts"]
            assert posted["channel"] == CHANNEL and "<@U0ANA>" in posted["text"]
            await fake.wait_for_async(lambda: buttons(fake.messages[(CHANNEL, ts)]))
            draft = fake.message(CHANNEL, ts)
            assert buttons(draft) == [APPROVE, EDIT, REJECT]
            assert "v1" in blocks_text(draft["blocks"]) and "risk" in blocks_text(draft["blocks"])

            # Carla (CFO) approves: an empty ack, then "live" in the message's thread.
            click = SlackWire.click_payload(APPROVE, ts, user="U0CARLA")
            # The button sends back the content hash of the version it was shown with.
            click["actions"][0]["value"] = next(
                e["value"]
                for b in draft["blocks"]
                if b["type"] == "actions"
                for e in b["elements"]
                if e["action_id"] == APPROVE
            )
            assert set(await server.deliver("interactive", click)) == {"envelope_id"}
            replies = await fake.wait_for_async(
                lambda: [p for p in fake.posted if p.get("thread_ts") == ts]
            )
            assert len(replies) == 1 and "(approved by carla)" in replies[0]["text"]
            assert "is live as automation au_" in replies[0]["text"]
            after = fake.message(CHANNEL, ts)
            assert not buttons(after) and "Approved by carla" in blocks_text(after["blocks"])
            assert not [p for p in fake.posted if p["channel"] == "#finance"]
            assert not server.unmatched
    # Everything is closed: the client and its HTTP session, its tasks, the lazy listeners.
    client = live.handler.client
    assert client.closed and client.aiohttp_client_session.closed
    assert await other_tasks() == []


async def test_stopping_socket_mode_closes_the_websocket(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handlers: list[AsyncSocketModeHandler] = []

    def recorded(services: Services, credentials: ConnectorSettings) -> AsyncSocketModeHandler:
        handlers.append(socket_handler(services, credentials))
        return handlers[-1]

    monkeypatch.setattr(socket_module, "socket_handler", recorded)
    fake = FakeSlack(BOT_TOKEN, channels=(CHANNEL,), app_token=APP_TOKEN)
    credentials = ConnectorSettings(slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN)
    async with asyncio.timeout(20), SocketModeServer(APP_ID) as server:
        with serving(fake):
            fake.socket_url = server.url
            built = services_at(services, tmp_path / "home", fake.url)
            running = asyncio.create_task(run_socket_mode(built, credentials))
            await asyncio.wait_for(server.connected.wait(), timeout=10)
            running.cancel()  # what Ctrl-C does to `flowdraft slack --socket`
            with contextlib.suppress(asyncio.CancelledError):
                await running
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(server.disconnected.wait(), timeout=2)
                assert server.disconnected.is_set(), "the websocket is still open"
            finally:
                # Close what the product leaked, so nothing outlives the test.
                for handler in handlers:
                    await handler.close_async()
