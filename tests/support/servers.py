"""Real servers on loopback for integration tests: a webhook receiver, Slack's Web API and
Socket Mode, SMTP."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web
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


class _JsonHandler(BaseHTTPRequestHandler):
    """Answers in JSON, and keeps quiet in the test output."""

    content_type = "application/json"

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(
        self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class _WebhookHandler(_JsonHandler):
    server: WebhookReceiver

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


class FakeSlack(ThreadingHTTPServer):
    """Answers the Slack Web API methods Flowdraft calls, the way Slack does.

    It keeps what was posted, updated, whispered (ephemeral) and opened (modals), and
    answers ``response_url`` posts under ``/respond/``. Given an ``app_token`` it also
    issues Socket Mode URLs (``apps.connections.open``): ``socket_url``, to that token only.
    """

    daemon_threads = True

    def __init__(
        self,
        token: str,
        channels: tuple[str, ...] = ("#finance", "#ops"),
        emails: dict[str, str] | None = None,
        app_token: str = "",
    ) -> None:
        super().__init__(("127.0.0.1", 0), _SlackHandler)
        self.token = token
        self.app_token = app_token
        self.socket_url = ""
        self.channels = set(channels)
        self.emails = dict(emails or {})
        self.behaviour = Behaviour()
        self.calls: list[dict[str, Any]] = []
        self.posted: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """Return the Web API base URL (what slack_sdk calls ``base_url``)."""
        return f"http://127.0.0.1:{self.server_address[1]}/api/"

    def response_url(self, name: str = "r") -> str:
        """Return a ``response_url`` for a slash command payload."""
        return f"http://127.0.0.1:{self.server_address[1]}/respond/{name}"

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """Return a message as it stands now (after any chat.update)."""
        with self.lock:
            return dict(self.messages[(channel, ts)])

    def wait_for(self, what: Any, timeout: float = 20.0) -> Any:
        """Wait until ``what()`` returns something truthy (work happens after the ack)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = what()
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"Slack never saw what was expected; calls: {self.methods()}")

    async def wait_for_async(self, what: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Wait like ``wait_for`` without blocking the event loop the app under test runs on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = what()
            if found:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"Slack never saw what was expected; calls: {self.methods()}")

    def methods(self) -> list[str]:
        """Return the Web API methods called so far, in order."""
        with self.lock:
            return [c["method"] for c in self.calls]


class _SlackHandler(_JsonHandler):
    server: FakeSlack
    content_type = "application/json; charset=utf-8"

    def do_GET(self) -> None:
        # slack_sdk sends a few read methods (users.info) as GET with a query string.
        self.do_POST()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        path, _, query = self.path.partition("?")
        method = path.rsplit("/", 1)[-1]
        content_type = self.headers.get("Content-Type", "")
        if "json" in content_type:
            args = {**dict(parse_qsl(query)), **json.loads(raw or b"{}")}
        else:
            args = dict(parse_qsl(query)) | dict(parse_qsl(raw.decode()))
            for name in ("blocks", "view", "metadata"):
                if isinstance(args.get(name), str):
                    args[name] = json.loads(args[name])
        server = self.server
        if self.path.startswith("/respond/"):
            with server.lock:
                server.responses.append(args)
            self._answer(200, {"ok": True})
            return
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
        presented = self.headers.get("Authorization", "").removeprefix("Bearer ")
        expected = server.token
        if method == "apps.connections.open":
            # Socket Mode URLs are issued to the app-level token only, as Slack does.
            if not presented.startswith("xapp-"):
                self._answer(200, {"ok": False, "error": "not_allowed_token_type"})
                return
            expected = server.app_token
        if presented != expected:
            self._answer(200, {"ok": False, "error": "invalid_auth"})
            return
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            self._answer(200, {"ok": False, "error": "unknown_method"})
            return
        with server.lock:
            self._answer(200, handler(args))

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.server.socket_url}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user_id": "UFLOWBOT", "bot_id": "BFLOWBOT", "team_id": "T0FLOW"}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        # A user id or a direct message channel (conversations.open) is a DM.
        if channel not in self.server.channels and not str(channel).startswith(("U", "D")):
            return {"ok": False, "error": "channel_not_found"}
        ts = f"{time.time():.6f}"
        while (channel, ts) in self.server.messages:
            ts = f"{float(ts) + 0.000001:.6f}"
        self.server.posted.append({**args, "ts": ts})
        self.server.messages[(str(channel), ts)] = dict(args)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text")}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "")
        if not users.startswith("U") or "," in users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users[1:]}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel")), str(args.get("ts")))
        if key not in self.server.messages:
            return {"ok": False, "error": "message_not_found"}
        self.server.messages[key] = {**self.server.messages[key], **args}
        self.server.updated.append(dict(args))
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self.server.ephemeral.append(dict(args))
        return {"ok": True, "message_ts": f"{time.time():.6f}"}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        self.server.views.append(dict(args))
        return {"ok": True, "view": {"id": f"V{len(self.server.views):04d}", **args["view"]}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user"))
        email = self.server.emails.get(user)
        if email is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": user, "profile": {"email": email}}}


class SocketModeServer:
    """Slack's end of Socket Mode on the test's event loop: the websocket an app connects to.

    It says ``hello`` to each connection, delivers envelopes, and matches the app's answers
    to them by ``envelope_id``. Use it as ``async with SocketModeServer(app_id) as server``,
    and hand out ``server.url`` from ``apps.connections.open`` (``FakeSlack.socket_url``).
    """

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self.ticket = uuid.uuid4().hex
        self.port = 0
        self.connections = 0
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.unmatched: list[dict[str, Any]] = []
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._socket: web.WebSocketResponse | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Return the one-time websocket URL, shaped like Slack's ``wss://.../link/?ticket=``."""
        return f"ws://127.0.0.1:{self.port}/link/?ticket={self.ticket}&app_id={self.app_id}"

    async def __aenter__(self) -> SocketModeServer:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._socket is not None and not self._socket.closed:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Send one envelope (``slash_commands``, ``interactive``...) and return the app's answer."""
        if self._socket is None or self._socket.closed:
            raise AssertionError("no app is connected to the Socket Mode server")
        envelope_id = str(uuid.uuid4())
        answer = asyncio.get_running_loop().create_future()
        self._answers[envelope_id] = answer
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
            }
        )
        return await asyncio.wait_for(answer, timeout)

    async def _link(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") != self.ticket:
            raise web.HTTPUnauthorized(text="unknown Socket Mode ticket")
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        self.connections += 1
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        self.connected.set()
        try:
            async for message in socket:
                if message.type is WSMsgType.TEXT:
                    self._match(json.loads(message.data))
        finally:
            self.disconnected.set()
        return socket

    def _match(self, answer: dict[str, Any]) -> None:
        waiting = self._answers.get(str(answer.get("envelope_id", "")))
        if waiting is None or waiting.done():
            self.unmatched.append(answer)
        else:
            waiting.set_result(answer)


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
