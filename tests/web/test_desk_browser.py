"""The support queue in a real browser: tickets in through the API, an agent accepts, edits
and rejects in the web chat, replies reach a real SMTP server, and the stats add up."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any

import httpx
import pytest

from assistant.db.engine import make_engine
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.services import Services
from assistant.web.process import ServerProcess
from tests.assistant.support import test_desk_api as api
from tests.support.servers import SmtpInbox, smtp_server
from tests.web.test_browser import browser, click_when_ready, login, make_home, send, shot

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the fixture, shared with the other browser tests

# The API tests' tickets, under ids of their own.
REFUND = {**api.REFUND, "id": "W-1"}
DELETION = {
    **api.DELETION,
    "id": "W-2",
    "customer": {**api.DELETION["customer"], "name": "Al Reyes"},
}
PASSWORD = {**api.PASSWORD, "id": "W-3"}


@dataclass
class DeskServer:
    base: str
    token: str
    inbox: SmtpInbox

    def post(self, ticket: dict[str, Any]) -> str:
        """Send a ticket through the API and wait until the server has drafted its reply."""
        headers = {"Authorization": f"Bearer {self.token}"}
        answer = httpx.post(f"{self.base}/api/tickets", json=ticket, headers=headers, timeout=30)
        assert answer.status_code == 202, answer.text
        ref = str(answer.json()["ticket"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reply = httpx.get(f"{self.base}/api/tickets/{ref}/reply", headers=headers, timeout=30)
            if reply.status_code == 200:
                return ref
            time.sleep(0.1)
        raise AssertionError(f"{ref} was never drafted")

    def mail_to(self, address: str) -> list[Message]:
        return [m for m in self.inbox.messages if address in str(m["To"])]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[DeskServer]:
    home = make_home(tmp_path_factory, services)
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    add_user(engine, name="sam", roles=["support"], password="sam-pass")  # ana: a manager
    _, token = create_token(engine, name="helpdesk", owner="sam")
    engine.dispose()
    with smtp_server() as (inbox, port):
        env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false"}
        process = ServerProcess(home, env=env)
        process.start()
        try:
            yield DeskServer(process.base, token, inbox)
        finally:
            process.stop()


def wait_for_mail(desk: DeskServer, address: str) -> Message:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if desk.mail_to(address):
            return desk.mail_to(address)[0]
        time.sleep(0.1)
    raise AssertionError(f"no mail reached {address}")


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


async def test_an_agent_works_the_queue_in_the_browser(desk: DeskServer, browser) -> None:  # type: ignore[no-untyped-def]
    first = desk.post(REFUND)
    page = await login(browser, desk.base, "sam", "sam-pass")

    # Accept: the drafted reply, its sources, and the email it becomes.
    queue = page.get_by_role("button", name="Open the support queue")
    await click_when_ready(page, queue, f"{first}: {REFUND['subject']}")
    await page.get_by_text("Drafted reply").first.wait_for()
    await page.get_by_text("faq/", exact=False).first.wait_for()
    assert await page.locator("#side-view-title").count() == 0  # no panel opens by itself
    await page.locator("#draft-sources button").first.click()  # a source opens alone
    assert (await page.locator("#side-view-title").inner_text()).startswith("faq/")
    await shot(page, "desk-queue")
    accept = page.get_by_role("button", name="Accept", exact=True)
    await click_when_ready(page, accept, "accepted and sent by sam")
    assert "Hi Jo," in text_of(wait_for_mail(desk, "jo@customer.example"))

    # Edit: a ticket routed to a person has no draft; the agent writes the reply.
    second = desk.post(DELETION)
    await send(page, "queue")
    await page.get_by_text(f"{second}: {DELETION['subject']}").first.wait_for(timeout=30_000)
    await page.get_by_text("Routed to a person").first.wait_for()
    assert await page.get_by_role("button", name="Accept", exact=True).count() == 0
    await page.get_by_role("button", name="Edit reply").click()
    form = page.get_by_label("Reply to the customer")
    await form.wait_for(timeout=30_000)
    await form.fill("Hi Al,\n\nOur privacy team will erase your account within the legal deadline.")
    await shot(page, "desk-edit")
    await page.get_by_role("button", name="Send reply").click()
    await page.get_by_text("edited and sent by sam").wait_for(timeout=30_000)
    assert "privacy team will erase" in text_of(wait_for_mail(desk, "al@customer.example"))

    # Reject, with a reason; nothing is sent.
    third = desk.post(PASSWORD)
    await send(page, "queue")
    await page.get_by_text(f"{third}: Can").first.wait_for(timeout=30_000)
    await click_when_ready(
        page, page.get_by_role("button", name="Reject", exact=True), "Why is the draft"
    )
    await send(page, "wrong article: they asked about the reset email")
    await page.get_by_text("Rejected by sam: wrong article").wait_for(timeout=30_000)
    assert not desk.mail_to("lee@customer.example")

    # The desk's metrics, in the UI.
    await send(page, "stats")
    table = page.get_by_role("table").filter(has_text="first response").last
    await table.wait_for(timeout=30_000)
    rows = await table.inner_text()
    assert "sam" in rows and "33%" in rows and "wrong article" in rows
    await shot(page, "desk-stats")


async def test_the_queue_and_stats_are_for_agents_only(desk: DeskServer, browser) -> None:  # type: ignore[no-untyped-def]
    ref = desk.post({**REFUND, "id": "W-4", "subject": "Refund for W-4"})
    page = await login(browser, desk.base, "ana", "ana-pass")
    assert await page.get_by_role("button", name="Open the support queue").count() == 0
    await send(page, "queue")
    await page.get_by_text("The support queue is for support agents").first.wait_for(timeout=30_000)
    await send(page, "stats")
    await (
        page.get_by_text("The support queue is for support agents").nth(1).wait_for(timeout=30_000)
    )
    assert await page.get_by_text(f"{ref}: Refund for W-4").count() == 0
    assert await page.get_by_role("table").count() == 0
