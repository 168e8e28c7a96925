"""The admin dashboard in headless Chromium, on a real `flowdraft serve` without an engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from assistant.bench.browser import BROWSER_ARGS
from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.services import Services
from assistant.web.process import ServerProcess
from tests.support.signals import seed_yesterday
from tests.web.test_views_browser import CHROMIUM, WAIT, shot, sign_in

pytestmark = pytest.mark.integration
PEOPLE = {"ana": ["finance"], "root": ["admin"]}
CHARTS = ("signal-rates", "signal-latencies", "signal-statuses")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[str]:
    """Start `flowdraft serve` (no engine) over a database with recent designs and runs."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed here; scripts/test installs it")
    home = tmp_path_factory.mktemp("dashboard-home")
    (home / "chroma").symlink_to(services.settings.chroma_path)
    db = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    for name, roles in PEOPLE.items():
        add_user(db, name=name, roles=roles, password=f"{name}-pass")
    seed_yesterday(db)
    db.dispose()
    process = ServerProcess(home, env={"FLOWDRAFT_TEMPORAL_ENABLED": "false"})
    process.start()
    try:
        yield process.base
    finally:
        process.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        await launched.close()


async def test_an_admin_sees_the_signals_charted(server: str, browser: Any) -> None:
    page = await sign_in(browser, server, "root", "/app/dashboard?days=7")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    for chart in CHARTS:
        await page.locator(f"#{chart}[data-ready]").wait_for(timeout=WAIT)
        box = await page.locator(f"#{chart}").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100
    table = page.locator("#signals")
    await table.get_by_text("median 16 s · p90 45 s (n=4)").wait_for(timeout=WAIT)
    assert await table.locator("tr", has_text="failure rate (runs)").inner_text() == (
        "failure rate (runs)\t25%"
    )
    assert await page.locator('nav a[href="/app/dashboard"]').count() == 1
    drift = page.locator("#drift")
    assert await drift.get_by_text("not enough cases").count() == 4  # the heading and each signal
    await shot(page, "dashboard-admin")
    assert errors == []


async def test_anyone_else_gets_a_403_page(server: str, browser: Any) -> None:
    page = await sign_in(browser, server, "ana", "/app/dashboard")
    await page.get_by_text("The dashboard is for admins").wait_for(timeout=WAIT)
    assert await page.locator('nav a[href="/app/dashboard"]').count() == 0
    response = await page.reload()
    assert response is not None and response.status == 403
    await shot(page, "dashboard-forbidden")
    stranger = httpx.get(f"{server}/app/dashboard", follow_redirects=False, timeout=30)
    assert stranger.status_code == 303 and stranger.headers["location"] == "/chat/login"
