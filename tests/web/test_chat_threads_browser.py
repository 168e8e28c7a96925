"""Which draft typed text reaches in the browser: after a reload, and beside a waiting draft."""

from __future__ import annotations

import re

import pytest

from tests.web.test_browser import browser, login, send, server

pytestmark = pytest.mark.integration
__all__ = ["browser", "server"]  # fixtures shared with the main browser tests

GOAL = "Route incoming support tickets to billing or tech queues"
APPROVE = re.compile(r"^Approve v\d+$")


async def test_after_a_reload_a_typed_edit_makes_v2_in_the_same_thread(  # type: ignore[no-untyped-def]
    server: str, browser
) -> None:
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, GOAL)
    await page.get_by_role("button", name=APPROVE).last.wait_for(timeout=30_000)
    history = page.locator("#thread-history li")
    await history.filter(has_text=GOAL[:30]).first.wait_for(timeout=30_000)
    threads = await history.count()

    await page.reload()
    await page.get_by_text("still waiting for review").wait_for(timeout=30_000)
    await send(page, "send it to #ops instead")
    await page.get_by_text("— v2").first.wait_for(timeout=30_000)
    assert await page.get_by_text("There is no draft").count() == 0
    assert await page.get_by_text("→ #ops").count() > 0

    # The history as the server keeps it: the draft's thread, and no new one for the edit.
    await page.reload()
    await history.filter(has_text=GOAL[:30]).first.wait_for(timeout=30_000)
    assert await history.count() == threads
    assert await history.filter(has_text="send it to #ops").count() == 0
    await history.filter(has_text=GOAL[:30]).first.get_by_role("link").click()
    await page.get_by_text("— v2").first.wait_for(timeout=30_000)
    assert await page.get_by_text("send it to #ops instead").count() > 0  # the turn is there
    approve = page.get_by_role("button", name=APPROVE)
    await page.get_by_role("button", name="Approve v2").last.wait_for(timeout=30_000)
    assert await approve.count() == 1  # and v2 can still be approved from it


async def test_beside_a_waiting_draft_a_question_is_answered_and_a_new_goal_drafted_apart(  # type: ignore[no-untyped-def]
    server: str, browser
) -> None:
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, "When a customer reports an outage, open an incident ticket and tell #support")
    await page.get_by_text("Northwind Cloud incident escalation — v1").wait_for(timeout=30_000)
    await send(page, "what can you do?")
    await page.get_by_text("escalation' v1 still waits for review").wait_for(timeout=30_000)
    assert await page.get_by_text("didn't understand").count() == 0
    approve = page.get_by_role("button", name=APPROVE)
    shown = await approve.count()  # this draft's, and any offered when the chat opened

    await send(page, "Post the weekly ticket summary in #support")
    await page.get_by_text("still waits for review in thread").wait_for(timeout=30_000)
    assert await approve.count() == shown + 1  # each draft keeps its own review
    # A typed change goes to the draft shown last; the first one stays at v1.
    await send(page, "send it to #ops instead")
    await page.get_by_text("— v2").first.wait_for(timeout=30_000)
    assert await page.get_by_text("Northwind Cloud incident escalation — v2").count() == 0
    # v2's review replaces v1's buttons of that draft; the first draft keeps its v1 buttons.
    await page.get_by_role("button", name="Approve v2").last.wait_for(timeout=30_000)
    assert await approve.count() == shown + 1
