"""Untrusted text in a real browser: a ticket and a chat message full of image markup are
shown as text, and the agent's browser requests nothing from the URLs they name."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from assistant.db.engine import make_engine
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.services import Services
from assistant.web.process import ServerProcess
from tests.web.test_browser import browser, login, make_home, send

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the fixture, shared with the other browser tests


class RequestLog(ThreadingHTTPServer):
    """An HTTP server on loopback that answers everything and remembers every path asked."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _LoggingHandler)
        self.paths: list[str] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _LoggingHandler(BaseHTTPRequestHandler):
    server: RequestLog

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep quiet in the test output."""


@pytest.fixture(scope="module")
def log() -> Iterator[RequestLog]:
    server = RequestLog()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[tuple[str, str]]:
    home = make_home(tmp_path_factory, services)
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    add_user(engine, name="sam", roles=["support"], password="sam-pass")
    _, token = create_token(engine, name="helpdesk", owner="sam")
    engine.dispose()
    process = ServerProcess(home)
    process.start()
    try:
        yield process.base, token
    finally:
        process.stop()


def post_and_wait(base: str, token: str, ticket: dict[str, Any]) -> str:
    """Send a ticket through the API; return its reference once its reply is drafted."""
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.post(f"{base}/api/tickets", json=ticket, headers=headers, timeout=30)
    assert answer.status_code == 202, answer.text
    ref = str(answer.json()["ticket"])
    deadline = time.monotonic() + 60
    while httpx.get(f"{base}/api/tickets/{ref}/reply", headers=headers).status_code != 200:
        assert time.monotonic() < deadline, f"{ref} was never drafted"
        time.sleep(0.1)
    return ref


async def test_image_markup_in_tickets_and_chat_fetches_nothing(  # type: ignore[no-untyped-def]
    desk: tuple[str, str], log: RequestLog, browser
) -> None:
    base, token = desk
    subject = f"Refund ![s]({log.url('/subject?q=secret')})"
    name = f"Kim ![n]({log.url('/name')})"
    body_image = f"![b]({log.url('/body')})"
    ticket = {
        "id": "W-IMG",
        "subject": subject,
        "body": f'My order never came.\n{body_image}\n<img src="{log.url("/html")}">',
        "customer": {"email": "kim@customer.example", "name": name},
    }
    ref = post_and_wait(base, token, ticket)

    page = await login(browser, base, "sam", "sam-pass")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await send(page, "queue")
    await page.get_by_text(f"{ref}: Refund").first.wait_for(timeout=30_000)
    chat_image = f"![c]({log.url('/chat')})"
    await send(page, f"what is the refund policy? {chat_image}")
    await page.get_by_text("what is the refund policy?").first.wait_for(timeout=30_000)

    # The page holds no element pointing at those URLs, so nothing can still be on its way...
    port = str(log.server_address[1])
    assert await page.locator(f"img[src*='{port}'], a[href*='{port}']").count() == 0
    # ...and a request the page does make reaches the log: it would have seen the others.
    await page.evaluate("url => fetch(url, {mode: 'no-cors'})", log.url("/control"))
    deadline = time.monotonic() + 10
    while "/control" not in log.paths:
        assert time.monotonic() < deadline, "the request log saw no request at all"
        time.sleep(0.05)
    assert log.paths == ["/control"]
    assert [url for url in requested if f":{port}/" in url] == [log.url("/control")]

    # The markup is shown as the characters the customer typed (an invisible word joiner
    # keeps the URLs from being turned into links).
    shown = (await page.locator("body").inner_text()).replace("\u2060", "")
    for typed in (subject, name, body_image, f'<img src="{log.url("/html")}">', chat_image):
        assert typed in shown
