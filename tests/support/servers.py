"""Real servers on loopback for integration tests: a webhook receiver, Slack's Web API, SMTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from assistant.web.process import free_port
from connectors.webhook import SIGNATURE_HEADER, verify_signature


@dataclass
class Behaviour:
    """Scripted answers: a queue of status codes (then 200s), and a delay per request."""

    statuses: list[int] = field(default_factory=list)
    retry_after: str | None = None
    delay: float = 0.0


class WebhookReceiver(ThreadingHTTPServer):
    """Receives webhooks: checks the HMAC signature and dedupes on Idempotency-Key."""

    daemon_threads = True

    def __init__(self, secret: str) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.secret = secret
        self.behaviour = Behaviour()
        self.requests: list[dict[str, Any]] = []
        self.delivered: dict[str, dict[str, Any]] = {}
        self.bad_signatures = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        key = self.headers.get("Idempotency-Key", "")
        server = self.server
        with server.lock:
            server.requests.append({"path": self.path, "key": key, "at": time.time()})
            status = server.behaviour.statuses.pop(0) if server.behaviour.statuses else 200
        if server.behaviour.delay:
            time.sleep(server.behaviour.delay)
        if not verify_signature(server.secret, body, self.headers.get(SIGNATURE_HEADER, "")):
            with server.lock:
                server.bad_signatures += 1
            self._answer(401, {"error": "bad signature"})
            return
        if status != 200:
            headers = (
                {"Retry-After": server.behaviour.retry_after}
                if status == 429 and server.behaviour.retry_after
                else {}
            )
            self._answer(status, {"error": "scripted"}, headers)
            return
        with server.lock:
            duplicate = key in server.delivered
            if not duplicate:
                server.delivered[key] = {"path": self.path, "payload": json.loads(body or b"{}")}
        self._answer(200, {"ok": True, "duplicate": duplicate})

    def _answer(
        self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class FakeSlack(ThreadingHTTPServer):
    """Answers the Slack Web API methods Flowdraft calls, the way Slack does."""

    daemon_threads = True

    def __init__(self, token: str, channels: tuple[str, ...] = ("#finance", "#ops")) -> None:
        super().__init__(("127.0.0.1", 0), _SlackHandler)
        self.token = token
        self.channels = set(channels)
        self.behaviour = Behaviour()
        self.calls: list[dict[str, Any]] = []
        self.posted: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """Return the Web API base URL (what slack_sdk calls ``base_url``)."""
        return f"http://127.0.0.1:{self.server_address[1]}/api/"


class _SlackHandler(BaseHTTPRequestHandler):
    server: FakeSlack

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        method = self.path.rsplit("/", 1)[-1]
        content_type = self.headers.get("Content-Type", "")
        if "json" in content_type:
            args = json.loads(raw or b"{}")
        else:
            from urllib.parse import parse_qsl

            args = dict(parse_qsl(raw.decode()))
        server = self.server
        with server.lock:
            server.calls.append({"method": method, "args": args})
            status = server.behaviour.statuses.pop(0) if server.behaviour.statuses else 200
        if status == 429:
            self._answer(
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": server.behaviour.retry_after or "1"},
            )
            return
        if status >= 500:
            self._answer(status, {"ok": False, "error": "internal_error"})
            return
        if self.headers.get("Authorization") != f"Bearer {server.token}":
            self._answer(200, {"ok": False, "error": "invalid_auth"})
            return
        if method == "chat.postMessage":
            if args.get("channel") not in server.channels:
                self._answer(200, {"ok": False, "error": "channel_not_found"})
                return
            ts = f"{time.time():.6f}"
            with server.lock:
                server.posted.append({**args, "ts": ts})
            self._answer(
                200,
                {
                    "ok": True,
                    "channel": args["channel"],
                    "ts": ts,
                    "message": {"text": args.get("text")},
                },
            )
            return
        self._answer(200, {"ok": False, "error": "unknown_method"})

    def _answer(
        self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class SmtpInbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """Run an HTTP server in a thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    """Run an SMTP server on loopback; yield its inbox and port."""
    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
