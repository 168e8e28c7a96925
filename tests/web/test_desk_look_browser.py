"""The support desk as an agent sees it, in headless Chromium, with no SMTP configured: new
tickets appear without asking, replies wrap, the result shows what was sent and says that
sandbox mode sent nothing, a ticket nobody could answer stays with a person, and the
thread has a name a person reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.db.engine import make_engine
from assistant.db.tokens import create_token
from assistant.db.users import add_user
from assistant.services import Services
from assistant.web.process import ServerProcess
from tests.assistant.support import test_desk_api as api
from tests.web.test_browser import browser, login, make_home, send, shot
from tests.web.test_rendering_browser import post_and_wait

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the fixture, shared with the other browser tests

REFUND = {**api.REFUND, "id": "L-1"}
DELETION = {**api.DELETION, "id": "L-2", "customer": {"email": "al@customer.example", "name": "Al"}}
ERASURE = {
    **api.DELETION,
    "id": "L-3",
    "subject": "Erase my data",
    "customer": {"email": "b@c.example"},
}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[tuple[str, str]]:
    home = make_home(tmp_path_factory, services)
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    add_user(engine, name="sam", roles=["support"], password="sam-pass")
    _, token = create_token(engine, name="helpdesk", owner="sam")
    engine.dispose()
    process = ServerProcess(home)  # no SMTP_HOST: email runs in sandbox mode
    process.start()
    try:
        yield process.base, token
    finally:
        process.stop()


async def test_new_tickets_arrive_and_sandbox_replies_say_nothing_was_sent(  # type: ignore[no-untyped-def]
    desk: tuple[str, str], browser
) -> None:
    base, token = desk
    page = await login(browser, base, "sam", "sam-pass")
    await page.get_by_text("support ticket(s) wait for an agent").wait_for(timeout=30_000)
    ref = post_and_wait(base, token, REFUND)
    # Nobody typed "queue": the ticket comes to the open chat.
    card = page.locator(".message-content", has_text=f"{ref}: {REFUND['subject']}")
    await card.first.wait_for(timeout=30_000)
    assert await page.get_by_text("New ticket in the queue").count() == 1
    # The drafted reply wraps inside its card instead of running off it.
    reply = card.first.locator("pre").first
    widths = await reply.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert widths[0] <= widths[1] + 1, widths
    await shot(page, "desk-look-1-new-ticket")

    await page.get_by_role("button", name="Accept", exact=True).click()
    result = page.locator(".message-content", has_text="nothing left the building")
    await result.first.wait_for(timeout=30_000)
    shown = await result.first.inner_text()
    assert "not sent" in shown and "SMTP_HOST" in shown and "and sent by" not in shown
    assert "Reply as sent" in shown
    # The sidebar names the thread in words, not after the button that started it.
    history = page.locator("#thread-history")
    await history.get_by_text("Support queue").first.wait_for(timeout=30_000)
    assert await history.get_by_text("reply_accept").count() == 0
    await shot(page, "desk-look-2-sandbox")


async def test_a_ticket_nobody_answered_stays_with_a_person(  # type: ignore[no-untyped-def]
    desk: tuple[str, str], browser
) -> None:
    base, token = desk
    first = post_and_wait(base, token, DELETION)
    page = await login(browser, base, "sam", "sam-pass")
    await send(page, "queue")
    await page.get_by_text(f"{first}: {DELETION['subject']}").first.wait_for(timeout=30_000)

    # Writing the reply: the form comes with the customer's words above it.
    await page.get_by_role("button", name="Edit reply").first.click()
    form = page.get_by_label("Reply to the customer")
    await form.wait_for(timeout=30_000)
    asking = page.locator(".message-content", has=form)
    assert "erase all my personal data" in await asking.inner_text()
    await form.fill("Hi Al,\n\nOur privacy team erases your account within 30 days.")
    await page.get_by_role("button", name="Send reply").click()
    await page.get_by_text("Reply as sent").first.wait_for(timeout=30_000)
    assert await page.get_by_text("privacy team erases your account").count() >= 1
    assert await page.get_by_text("Thanks for submitting").count() == 0

    # Handing on: the ticket stays in the queue, for the support lead.
    second = post_and_wait(base, token, ERASURE)
    await page.get_by_text(f"{second}: Erase my data").first.wait_for(timeout=30_000)
    await page.get_by_role("button", name="Hand on to the support lead").last.click()
    await page.get_by_text(f"Why hand {second} on").wait_for(timeout=30_000)
    await send(page, "needs the privacy team")
    await page.get_by_text(f"{second} stays in the queue for the support lead").wait_for(
        timeout=30_000
    )
    await send(page, "queue")
    await page.get_by_text("escalated to the support lead by sam").last.wait_for(timeout=30_000)
    await shot(page, "desk-look-3-handed-on")
