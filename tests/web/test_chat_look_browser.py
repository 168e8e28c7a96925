"""What a new user sees in the web chat, in headless Chromium against a live server: nothing
fetched from other hosts, buttons that name their version and go once decided, no empty
messages, an edit form over the settings users change, and sandbox mode said plainly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.services import Services
from assistant.web.process import ServerProcess
from tests.web.test_browser import (
    GOAL,
    browser,
    login,
    make_home,
    open_from_sidebar,
    send,
    shot,
)

pytestmark = pytest.mark.integration
DECISION = re.compile(r"^(Approve|Edit|Reject) v\d+$")  # any review button, of any version
__all__ = ["browser"]  # the fixture, shared with the other browser tests


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[str]:
    """Start `flowdraft serve` (no Slack or SMTP credentials: sandbox mode); yield its URL.

    Each test signs in as a manager of its own, so no test is offered another's waiting draft.
    """
    home = make_home(tmp_path_factory, services)
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    for name in ("bo", "cy"):
        add_user(engine, name=name, roles=["manager"], password=f"{name}-pass")
    engine.dispose()
    process = ServerProcess(home)
    process.start()
    yield process.base
    process.stop()


async def empty_messages(page) -> int:  # type: ignore[no-untyped-def]
    """Count the assistant messages on the page that show nothing at all."""
    bubbles = page.locator("[data-step-type='assistant_message'] .message-content")
    texts = await bubbles.all_inner_texts()
    return sum(1 for text in texts if not text.strip())


async def test_the_page_requests_nothing_from_other_hosts(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    requested: list[str] = []
    context = await browser.new_context()
    context.on("request", lambda request: requested.append(request.url))
    page = await context.new_page()
    await page.goto(f"{server}/chat/")
    await page.get_by_label("User name").fill("ana")
    await page.get_by_label("Password", exact=True).fill("ana-pass")
    await page.get_by_role("button", name="Sign In").click()
    await page.get_by_text("Describe a process to automate").wait_for(timeout=30_000)
    await send(page, GOAL)
    await page.get_by_role("img", name="workflow v1").wait_for(timeout=30_000)
    await page.reload()  # the thread's own page, loaded again
    await page.get_by_text("Vendor invoice triage — v1").first.wait_for(timeout=30_000)
    hosts = {urlsplit(url).hostname for url in requested if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, sorted(url for url in requested if "127.0.0.1" not in url)
    await context.close()


async def test_buttons_name_their_version_and_go_once_it_is_decided(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await login(browser, server, "bo", "bo-pass")
    await send(page, GOAL)
    first = page.get_by_role("button", name="Approve v1", exact=True)
    await first.wait_for(timeout=30_000)
    assert await empty_messages(page) == 0
    await send(page, "send it to #ops instead")
    second = page.get_by_role("button", name="Approve v2", exact=True)
    await second.wait_for(timeout=30_000)
    await page.get_by_text("What changed since v1:").wait_for()
    await first.wait_for(state="detached", timeout=30_000)  # v1 was decided: edited into v2
    assert await page.get_by_role("button", name="Edit v1").count() == 0
    await shot(page, "look-1-versions")

    await second.click()
    await page.get_by_text("is live as automation").first.wait_for(timeout=60_000)
    await second.wait_for(state="detached", timeout=30_000)
    # Slack has no token here: the chat says its runs send nothing, and how to change that.
    await page.get_by_text("Sandbox mode:").first.wait_for(timeout=30_000)
    assert await page.get_by_text("SLACK_BOT_TOKEN").count() > 0
    assert await empty_messages(page) == 0
    await shot(page, "look-2-live")

    # Reloaded, and the thread reopened: nothing is offered for a decided review.
    await page.reload()
    await page.get_by_text("Describe a process to automate").wait_for(timeout=30_000)
    assert await page.get_by_role("button", name=DECISION).count() == 0
    await open_from_sidebar(page, GOAL[:40])
    await page.get_by_text("is live as automation").first.wait_for(timeout=30_000)
    assert await page.get_by_role("button", name=DECISION).count() == 0

    await page.locator("#new-chat-button").click()
    dialog = page.get_by_role("dialog")
    await dialog.wait_for(timeout=30_000)
    warning = await dialog.inner_text()
    assert "clear" not in warning.lower() and "kept" in warning


async def test_the_edit_form_changes_settings_and_order_and_says_what_changed(  # type: ignore[no-untyped-def]
    server: str, browser
) -> None:
    page = await login(browser, server, "cy", "cy-pass")
    await send(page, GOAL)
    edit = page.get_by_role("button", name="Edit v1", exact=True)
    await edit.wait_for(timeout=30_000)
    await edit.click()
    channel = page.get_by_label("Step 6 channel")
    await channel.wait_for(timeout=30_000)
    assert await channel.input_value() == "#finance"
    await channel.fill("#ap-team")
    threshold = page.get_by_label("Step 2 condition")
    await threshold.fill("invoice.amount > 20000")
    await page.get_by_label("Step 3 signs off").fill("controller")
    await page.get_by_role("button", name="Move step 6 up").click()
    await shot(page, "look-3-edit-form")
    await page.get_by_role("button", name="Save as v2").click()
    await page.get_by_text("Vendor invoice triage — v2").wait_for(timeout=30_000)
    changes = page.locator(".message-content", has_text="What changed since v1:").last
    shown = await changes.inner_text()
    assert "condition invoice.amount > 10000 → invoice.amount > 20000" in shown
    assert "signs off cfo → controller" in shown
    assert "channel #finance → #ap-team" in shown
    assert "moved: it was step 6" in shown
    assert await page.get_by_text("Thanks for submitting").count() == 0
    assert await page.get_by_text("You edited v1").count() == 1
    await shot(page, "look-4-edited")
