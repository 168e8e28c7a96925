"""Slack, email and webhook connectors against real servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.email import EmailConnector, message_id
from connectors.retry import RetryPolicy
from connectors.slack import SlackConnector
from connectors.webhook import WebhookConnector
from tests.support.servers import FakeSlack, WebhookReceiver, free_port, serving, smtp_server

pytestmark = pytest.mark.integration
FAST = RetryPolicy(attempts=3, timeout=3.0, base_delay=0.05, max_delay=2.0)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with serving(FakeSlack(token="xoxb-test")) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with serving(WebhookReceiver(secret="s3cret")) as server:
        yield server  # type: ignore[misc]


def slack_connector(slack: FakeSlack, token: str = "xoxb-test") -> SlackConnector:
    return SlackConnector(token=token, base_url=slack.url, retry=FAST)


async def test_slack_posts_with_the_bot_token(slack: FakeSlack) -> None:
    result = await slack_connector(slack).execute(
        "post_message", {"channel": "#finance", "text": "Invoice 7 approved"}, "k1"
    )
    assert result.status == "ok" and result.external_id == slack.posted[0]["ts"]
    assert (
        slack.posted[0]["channel"] == "#finance" and slack.posted[0]["text"] == "Invoice 7 approved"
    )
    assert not result.sandbox


async def test_slack_waits_for_retry_after_on_429(slack: FakeSlack) -> None:
    slack.behaviour.statuses = [429]
    slack.behaviour.retry_after = "1"
    result = await slack_connector(slack).execute(
        "post_message", {"channel": "#ops", "text": "hi"}, "k2"
    )
    assert result.status == "ok" and "after 2 attempts" in result.detail
    assert len(slack.calls) == 2 and len(slack.posted) == 1


async def test_slack_permanent_errors_are_not_retried(slack: FakeSlack) -> None:
    result = await slack_connector(slack).execute(
        "post_message", {"channel": "#nowhere", "text": "hi"}, "k3"
    )
    assert result.status == "failed" and "channel_not_found" in result.detail
    assert len(slack.calls) == 1
    bad_token = await slack_connector(slack, token="xoxb-wrong").execute(
        "post_message", {"channel": "#ops", "text": "hi"}, "k4"
    )
    assert bad_token.status == "failed" and "invalid_auth" in bad_token.detail


async def test_slack_gives_up_after_bounded_retries(slack: FakeSlack) -> None:
    slack.behaviour.statuses = [503, 503, 503, 503]
    result = await slack_connector(slack).execute(
        "post_message", {"channel": "#ops", "text": "hi"}, "k5"
    )
    assert result.status == "failed" and "3 attempts" in result.detail
    assert len(slack.calls) == 3


async def test_email_is_proper_mime_with_a_key_derived_message_id() -> None:
    with smtp_server() as (inbox, port):
        email = EmailConnector(
            host="127.0.0.1",
            port=port,
            starttls=False,
            sender="flowdraft@northwind.example",
            retry=FAST,
        )
        params = {
            "to": ["ap@northwind.example"],
            "cc": ["cfo@northwind.example"],
            "subject": "Invoice 7",
            "body": "Approved.",
        }
        first = await email.execute("send_email", params, "thread:abc:s3")
        again = await email.execute("send_email", params, "thread:abc:s3")
    assert first.status == again.status == "ok"
    assert len(inbox.messages) == 2
    message = inbox.messages[0]
    assert message["Subject"] == "Invoice 7" and message["To"] == "ap@northwind.example"
    assert message["Cc"] == "cfo@northwind.example"
    assert message["Message-ID"] == message_id("thread:abc:s3", "northwind.example")
    assert (
        inbox.messages[1]["Message-ID"] == message["Message-ID"]
    )  # receivers can drop the duplicate
    assert message.get_content_type() == "text/plain" and "Approved." in message.get_payload()


async def test_email_to_a_dead_server_fails_after_retries() -> None:
    email = EmailConnector(
        host="127.0.0.1",
        port=free_port(),
        starttls=False,
        retry=RetryPolicy(attempts=2, timeout=1, base_delay=0.01),
    )
    result = await email.execute(
        "send_email", {"to": "a@northwind.example", "subject": "s", "body": "b"}, "k"
    )
    assert result.status == "failed" and "2 attempts" in result.detail


def webhook(receiver: WebhookReceiver, secret: str = "s3cret") -> WebhookConnector:
    return WebhookConnector(
        secret=secret, host_allowed=lambda host: host == "127.0.0.1", retry=FAST
    )


async def test_webhook_is_signed_and_deduped_by_key(receiver: WebhookReceiver) -> None:
    hook = webhook(receiver)
    params = {"url": f"{receiver.url}/ap/invoices", "payload": {"invoice": 7, "amount": 12000}}
    first = await hook.execute("post_json", params, "t:abc:s1")
    second = await hook.execute("post_json", params, "t:abc:s1")
    assert first.status == second.status == "ok"
    assert receiver.bad_signatures == 0
    assert len(receiver.requests) == 2 and list(receiver.delivered) == ["t:abc:s1"]
    assert receiver.delivered["t:abc:s1"]["payload"] == {"amount": 12000, "invoice": 7}


async def test_webhook_retries_5xx_and_429_but_not_4xx(receiver: WebhookReceiver) -> None:
    receiver.behaviour.statuses = [503, 429]
    receiver.behaviour.retry_after = "0"
    ok = await webhook(receiver).execute(
        "post_json", {"url": f"{receiver.url}/x", "payload": {}}, "k-retry"
    )
    assert ok.status == "ok" and len(receiver.requests) == 3
    receiver.behaviour.statuses = [400]
    refused = await webhook(receiver).execute(
        "post_json", {"url": f"{receiver.url}/x", "payload": {}}, "k-400"
    )
    assert refused.status == "failed" and "400" in refused.detail and len(receiver.requests) == 4


async def test_webhook_signature_and_allowed_hosts(receiver: WebhookReceiver) -> None:
    wrong = await webhook(receiver, secret="other").execute(
        "post_json", {"url": f"{receiver.url}/x", "payload": {}}, "k"
    )
    assert wrong.status == "failed" and receiver.bad_signatures == 1 and not receiver.delivered
    hook = WebhookConnector(secret="s3cret", host_allowed=lambda host: False, retry=FAST)
    blocked = await hook.execute("post_json", {"url": f"{receiver.url}/x", "payload": {}}, "k2")
    assert blocked.status == "failed" and "not allowed" in blocked.detail
    assert len(receiver.requests) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from connectors.retry import parse_retry_after

    assert parse_retry_after("3") == 3.0 and parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(later) or 0) <= 31


async def test_a_retry_after_longer_than_we_wait_fails_at_once(receiver: WebhookReceiver) -> None:
    receiver.behaviour.statuses = [429]
    receiver.behaviour.retry_after = "3600"
    result = await webhook(receiver).execute(
        "post_json", {"url": f"{receiver.url}/x", "payload": {}}, "k-long"
    )
    assert result.status == "failed" and "3600" in result.detail and len(receiver.requests) == 1


async def test_smtp_recipients_refused_is_permanent() -> None:
    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
            return "550 no such user"

    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        email = EmailConnector(host="127.0.0.1", port=port, starttls=False, retry=FAST)
        result = await email.execute(
            "send_email", {"to": "nobody@northwind.example", "subject": "s", "body": "b"}, "k"
        )
    finally:
        controller.stop()
    assert (
        result.status == "failed" and "refused" in result.detail and "attempts" not in result.detail
    )


@pytest.mark.parametrize("separator", ["\r", "\n", "\u2028", "\u2029", "\x85", "\v", "\f"])
async def test_a_line_break_in_a_subject_is_a_failed_result_not_a_crash(separator: str) -> None:
    with smtp_server() as (inbox, port):
        connector = EmailConnector(host="127.0.0.1", port=port, starttls=False, retry=FAST)
        result = await connector.execute(
            "send_email",
            {
                "to": ["a@b.example"],
                "subject": f"Hello{separator}Bcc: x@evil.example",
                "body": "hi",
            },
            "k-line-break",
        )
    assert result.status == "failed"
    assert "subject" in result.detail and "line break" in result.detail
    assert not inbox.messages


async def test_a_connector_that_raises_gives_a_failed_result() -> None:
    class Exploding(EmailConnector):
        async def perform(self, operation: str, params: Any, idempotency_key: str) -> Any:
            raise RuntimeError("the library broke")

    result = await Exploding(host="127.0.0.1").execute(
        "send_email", {"to": ["a@b.example"], "subject": "s", "body": "b"}, "k-raise"
    )
    assert result.status == "failed" and "the library broke" in result.detail
