"""The Teams connector against a real incoming-webhook receiver on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.db.engine import make_engine
from assistant.settings import ConnectorSettings, Settings
from connectors.registry import build_registry
from connectors.retry import RetryPolicy
from connectors.teams import TeamsConnector
from tests.support.servers import serving

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=3, timeout=3.0, base_delay=0.05, max_delay=2.0)


class TeamsReceiver(ThreadingHTTPServer):
    """Answers like a Teams incoming webhook: ``1`` for a card, failing first if told to."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _TeamsHandler)
        self.cards: list[dict[str, Any]] = []
        self.failures: list[int] = []
        """Statuses to answer with before accepting, one per request."""
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """Return the webhook's URL."""
        return f"http://127.0.0.1:{self.server_address[1]}/webhookb2/abc/IncomingWebhook/x"


class _TeamsHandler(BaseHTTPRequestHandler):
    server: TeamsReceiver

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.lock:
            status = self.server.failures.pop(0) if self.server.failures else 200
            if status == 200:
                self.server.cards.append(json.loads(body))
        answer = b"1" if status == 200 else b"Webhook message delivery failed"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def teams() -> Iterator[TeamsReceiver]:
    with serving(TeamsReceiver()) as server:
        yield server  # type: ignore[misc]


def loopback_only(host: str) -> bool:
    return host == "127.0.0.1"


async def test_a_message_is_posted_as_a_message_card(teams: TeamsReceiver) -> None:
    connector = TeamsConnector(url=teams.url, host_allowed=loopback_only, retry=FAST)
    result = await connector.execute(
        "post_message", {"title": "Invoice 7", "text": "Approved by the CFO"}, "run:abc:s2"
    )
    assert result.status == "ok" and not result.sandbox
    assert teams.cards == [
        {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": "Invoice 7",
            "title": "Invoice 7",
            "text": "Approved by the CFO",
        }
    ]


async def test_a_busy_webhook_is_retried_and_a_refusal_is_not(teams: TeamsReceiver) -> None:
    connector = TeamsConnector(url=teams.url, host_allowed=loopback_only, retry=FAST)
    teams.failures = [503, 429]
    result = await connector.execute("post_message", {"text": "hello"}, "k1")
    assert result.status == "ok" and len(teams.cards) == 1

    teams.failures = [400]
    refused = await connector.execute("post_message", {"text": "hello again"}, "k2")
    assert refused.status == "failed" and "400" in refused.detail
    assert len(teams.cards) == 1


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://outlook.webhook.office.com/webhookb2/x", "must be https"),
        ("https://teams.evil.example/webhookb2/x", "not allowed by policy"),
    ],
)
async def test_a_url_that_is_not_https_or_not_allowed_is_refused_unsent(
    teams: TeamsReceiver, url: str, why: str
) -> None:
    connector = TeamsConnector(
        url=url, host_allowed=lambda host: host.endswith(".webhook.office.com"), retry=FAST
    )
    result = await connector.execute("post_message", {"text": "hello"}, "k1")
    assert result.status == "failed" and why in result.detail
    assert teams.cards == []


def test_the_registry_posts_for_real_only_with_a_webhook_url(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'flowdraft.db'}")
    settings = Settings(home=tmp_path)

    unset = build_registry(settings, ConnectorSettings(), engine=engine, host_allowed=bool)
    assert unset.get("teams").sandbox
    assert "TEAMS_WEBHOOK_URL" in unset.get("teams").setup_hint

    configured = ConnectorSettings(teams_webhook_url="https://northwind.webhook.office.com/x")
    real = build_registry(settings, configured, engine=engine, host_allowed=bool)
    assert isinstance(real.get("teams"), TeamsConnector) and not real.get("teams").sandbox
