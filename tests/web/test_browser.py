"""The whole flow in a real browser: headless Chromium driving a live `flowdraft serve`."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from assistant.bench.browser import BROWSER_ARGS
from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.services import Services
from assistant.web.process import ServerProcess

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


def make_home(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Path:
    """A data directory sharing the session's vectors, with three users."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed here; scripts/test installs it")
    home = tmp_path_factory.mktemp("web-home")
    (home / "chroma").symlink_to(services.settings.chroma_path)
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    add_user(engine, name="ana", roles=["manager"], password="ana-pass")
    add_user(engine, name="ivan", roles=["it"], password="ivan-pass")
    engine.dispose()
    return home


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[str]:
    """Start `flowdraft serve` on a free port; yield its base URL."""
    process = ServerProcess(make_home(tmp_path_factory, services))
    process.start()
    yield process.base
    process.stop()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=BROWSER_ARGS,
        )
        yield launched
        await launched.close()


async def login(browser, base: str, user: str, password: str):  # type: ignore[no-untyped-def]
    page = await browser.new_page(viewport={"width": 1300, "height": 1000})
    await page.goto(f"{base}/chat/")
    await page.get_by_label("User name").fill(user)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign In").click()
    await page.locator("#chat-input").wait_for(timeout=30_000)
    await page.get_by_text("Describe a process to automate").wait_for(timeout=30_000)  # connected
    return page


async def send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#chat-input")
    await box.click()
    await box.fill(text)
    # The send button shows, enabled, once the chat is ready for a message (while a task
    # runs a stop button takes its place and Enter is ignored).
    await page.locator("#chat-submit").click()


async def click_when_ready(page, button, expected: str) -> None:  # type: ignore[no-untyped-def]
    """Click ``button`` once the chat is idle, and wait for ``expected``.

    Chainlit shows its send button (``#chat-submit``) only when no task runs; a button drawn
    by a turn still running can swallow a click, so the click waits for that signal.
    """
    await page.locator("#chat-submit").wait_for(timeout=30_000)
    await button.wait_for(timeout=30_000)
    await button.click()
    await page.get_by_text(expected).first.wait_for(timeout=30_000)


async def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_draft_edit_and_approve_in_the_browser(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, GOAL)
    await page.get_by_text("Vendor invoice triage — v1").wait_for(timeout=30_000)
    await page.get_by_role("img", name="workflow v1").wait_for()
    await page.get_by_text("policies/approval-matrix.md").first.wait_for()  # a source to open
    await page.get_by_role("button", name="Approve").last.wait_for()
    assert await page.locator("#side-view-title").count() == 0  # no panel opens by itself
    await shot(page, "1-draft")

    await send(page, "send it to #ops instead")
    await page.get_by_text("Vendor invoice triage — v2").wait_for(timeout=30_000)
    assert await page.get_by_text("→ #ops").count() > 0
    await shot(page, "2-edited")

    await click_when_ready(
        page, page.get_by_role("button", name="Approve").last, "is live as automation"
    )
    assert await page.get_by_text("(approved by ana); send invoices to http").count() > 0
    await shot(page, "3-live")


async def test_an_approve_button_of_an_older_version_only_says_which_is_current(  # type: ignore[no-untyped-def]
    server: str, browser
) -> None:
    goal = "Post the weekly ticket summary in #support"
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, goal)
    await page.get_by_role("button", name="Approve v1", exact=True).wait_for(timeout=30_000)
    # The same thread in a second tab keeps v1's buttons after the first tab edits it.
    other = await login(browser, server, "ana", "ana-pass")
    await open_from_sidebar(other, goal[:40])
    stale = other.get_by_role("button", name="Approve v1", exact=True)
    await stale.wait_for(timeout=30_000)

    await send(page, "send it to #ops instead")
    await page.get_by_role("button", name="Approve v2", exact=True).wait_for(timeout=30_000)
    await stale.click()
    await other.get_by_text("v2 is current; review it and decide again").wait_for(timeout=30_000)
    await stale.wait_for(state="detached", timeout=30_000)  # pressed once, then gone
    assert await other.get_by_text("is live as automation").count() == 0
    await page.get_by_role("button", name="Approve v2", exact=True).click()
    # A weekly schedule: going live waits for the schedule's sync.
    await page.get_by_text("v2 is live as automation").wait_for(timeout=90_000)


async def test_a_user_without_the_role_is_told_who_can_approve(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await login(browser, server, "ivan", "ivan-pass")
    await send(page, GOAL)
    await page.get_by_role("button", name="Approve").last.wait_for(timeout=30_000)
    await click_when_ready(
        page, page.get_by_role("button", name="Approve").last, "Approval by ivan refused"
    )
    assert await page.get_by_text("Who can approve: ana").count() > 0
    await shot(page, "4-refused")
    await page.get_by_text("policies/approval-matrix.md").first.click()  # open a source
    panel = page.locator("#side-view-content")
    await panel.get_by_text("Separation of duties").first.wait_for(timeout=30_000)
    assert await page.locator("#side-view-title").inner_text() == "policies/approval-matrix.md"
    assert await panel.locator(".side-text").count() == 1  # that document only
    await shot(page, "8-source-opened")


async def test_wrong_password_is_refused(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page()
    await page.goto(f"{server}/chat/")
    await page.get_by_label("User name").fill("ana")
    await page.get_by_label("Password", exact=True).fill("wrong")
    await page.get_by_role("button", name="Sign In").click()
    # The refusal is on screen once the server has answered; only then is "no chat" telling.
    await page.get_by_text("Unable to sign in").first.wait_for(timeout=30_000)
    assert await page.locator("#chat-input").count() == 0


async def test_reload_mid_review_then_approve(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, "Route incoming support tickets to billing or tech queues")
    await page.get_by_role("button", name="Approve").last.wait_for(timeout=30_000)
    await page.reload()
    await page.get_by_text("still waiting for review").wait_for(timeout=30_000)
    await page.get_by_role("button", name="Approve").last.wait_for(timeout=30_000)
    await shot(page, "5-after-reload")
    await click_when_ready(
        page, page.get_by_role("button", name="Approve").last, "is live as automation"
    )


@pytest.mark.slow
async def test_server_restart_mid_review_then_approve(
    tmp_path_factory: pytest.TempPathFactory,
    services: Services,
    browser,  # type: ignore[no-untyped-def]
) -> None:
    process = ServerProcess(make_home(tmp_path_factory, services))
    process.start()
    try:
        page = await login(browser, process.base, "ana", "ana-pass")
        await send(page, "Post the weekly ticket summary in #support")
        await page.get_by_role("button", name="Approve").last.wait_for(timeout=30_000)
        process.stop()
        process.start()
        # The old tab may be sent to the login page while the server is down; the person
        # opens the chat again with the same session cookie.
        cookies = await page.context.storage_state()
        await page.close()
        again = await browser.new_context(
            storage_state=cookies, viewport={"width": 1300, "height": 1000}
        )
        page = await again.new_page()
        await page.goto(f"{process.base}/chat/")
        await page.get_by_text("still waiting for review").wait_for(timeout=30_000)
        await page.get_by_role("button", name="Approve").last.wait_for(timeout=30_000)
        await shot(page, "6-after-restart")
        await click_when_ready(
            page, page.get_by_role("button", name="Approve").last, "is live as automation"
        )
    finally:
        process.stop()


async def test_edit_form_renames_and_removes_steps(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, "Post the weekly ticket summary in #support")
    await page.get_by_role("button", name="Edit v1").last.wait_for(timeout=30_000)
    await page.get_by_role("button", name="Edit v1").last.click()
    title = page.get_by_label("Step 1 title")
    await title.wait_for(timeout=30_000)
    await title.fill("Summarise the week's tickets")
    await shot(page, "7-edit-form")
    await page.get_by_role("button", name="Save as v2").click()
    await page.get_by_text("— v2").first.wait_for(timeout=30_000)
    assert await page.get_by_text("Summarise the week's tickets").count() > 0
    # The chat takes typed messages again once the form is done.
    await send(page, "send it to #ops instead")
    await page.get_by_text("— v3").first.wait_for(timeout=30_000)


async def new_chat(page) -> None:  # type: ignore[no-untyped-def]
    await page.locator("#new-chat-button").click()
    await page.locator("#confirm").click()
    await page.get_by_text("Describe a process to automate").wait_for(timeout=30_000)


async def open_from_sidebar(page, name: str) -> str:  # type: ignore[no-untyped-def]
    """Open the past thread named ``name`` from the history sidebar; return its id."""
    item = page.locator("#thread-history li", has_text=name).first
    await item.wait_for(timeout=30_000)
    thread = (await item.get_attribute("id") or "").removeprefix("thread-")
    await item.get_by_role("link").click()
    await page.wait_for_url(f"**/thread/{thread}", timeout=30_000)
    return thread


async def test_reopen_a_waiting_thread_from_the_sidebar_then_approve(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    goal = "When a customer reports an outage, open an incident ticket and tell #support"
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, goal)
    await page.get_by_role("button", name="Approve v1", exact=True).last.wait_for(timeout=30_000)
    await new_chat(page)

    thread = await open_from_sidebar(page, goal[:40])
    approve = page.get_by_role("button", name="Approve v1", exact=True)
    await approve.wait_for(timeout=30_000)
    # The thread's own review got its buttons back: its draft was not offered again.
    assert await page.get_by_text("Northwind Cloud incident escalation — v1").count() == 1
    assert await approve.count() == 1
    assert await page.get_by_role("img", name="workflow v1").count() == 1  # diagram is back
    assert await page.locator("#draft-sources button").count() > 0  # and its sources
    await approve.scroll_into_view_if_needed()
    await shot(page, "9-reopened-from-sidebar")

    await click_when_ready(page, approve, "is live as automation")
    assert page.url.endswith(f"/thread/{thread}")


async def test_a_draft_edited_from_another_chat_is_offered_when_its_thread_reopens(
    server: str,
    browser,  # type: ignore[no-untyped-def]
) -> None:
    goal = "Share the weekly churn-risk list with account managers in #success"
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, goal)
    await page.get_by_role("button", name="Edit v1", exact=True).last.wait_for(timeout=30_000)
    await new_chat(page)  # which offers the draft again, buttons and all
    await page.get_by_text("Churn-risk customer outreach — v1").last.wait_for(timeout=30_000)
    await page.get_by_role("button", name="Edit v1", exact=True).last.click()
    await page.get_by_label("Step 1 title").fill("Score the accounts")
    await page.get_by_role("button", name="Save as v2").click()
    await page.get_by_text("Churn-risk customer outreach — v2").wait_for(timeout=30_000)
    await new_chat(page)

    thread = await open_from_sidebar(page, goal[:40])
    approve = page.get_by_role("button", name="Approve v2", exact=True)
    await approve.wait_for(timeout=30_000)
    assert await approve.count() == 1  # for v2, offered below the thread's own v1
    assert await page.get_by_text("Churn-risk customer outreach — v2").count() == 1
    assert await page.get_by_role("img", name="workflow v2").count() == 1
    await approve.click()  # enabled once the chat is ready; a weekly schedule is slow to sync
    await page.get_by_text("is live as automation").first.wait_for(timeout=90_000)
    assert page.url.endswith(f"/thread/{thread}")
