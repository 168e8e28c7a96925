"""The whole flow in a real browser: headless Chromium driving a live `flowdraft serve`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.services import Services
from tests.support.servers import free_port

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[str]:
    """Start `flowdraft serve` on a free port with three users; yield its base URL."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed here; scripts/test installs it")
    home = tmp_path_factory.mktemp("web-home")
    (home / "chroma").symlink_to(services.settings.chroma_path)
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    add_user(engine, name="ana", roles=["manager"], password="ana-pass")
    add_user(engine, name="ivan", roles=["it"], password="ivan-pass")
    port = free_port()
    env = {**os.environ, "FLOWDRAFT_HOME": str(home)}
    env.pop("CHAINLIT_AUTH_SECRET", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(
            f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    yield base
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        await launched.close()


async def login(browser, base: str, user: str, password: str):  # type: ignore[no-untyped-def]
    page = await browser.new_page(viewport={"width": 1300, "height": 1000})
    await page.goto(f"{base}/chat/")
    await page.get_by_label("Email address").fill(user)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign In").click()
    await page.locator("#chat-input").wait_for(timeout=30_000)
    await page.get_by_text("Describe a process to automate").wait_for(timeout=30_000)  # connected
    return page


async def send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#chat-input")
    await box.click()
    await box.fill(text)
    await page.keyboard.press("Enter")


async def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_draft_edit_and_approve_in_the_browser(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await login(browser, server, "ana", "ana-pass")
    await send(page, GOAL)
    await page.get_by_text("Vendor invoice triage — v1").wait_for(timeout=30_000)
    await page.get_by_role("img", name="workflow v1").wait_for()
    assert await page.get_by_text("Approval Matrix").count() > 0  # a source the user can open
    await page.get_by_role("button", name="Approve").last.wait_for()
    await shot(page, "1-draft")

    await send(page, "send it to #ops instead")
    await page.get_by_text("Vendor invoice triage — v2").wait_for(timeout=30_000)
    assert await page.get_by_text("→ #ops").count() > 0
    await shot(page, "2-edited")

    await page.get_by_role("button", name="Approve").last.click()
    await page.get_by_text("Approved by ana and dispatched").wait_for(timeout=30_000)
    assert await page.get_by_text("sandbox: would slack.post_message channel=#ops").count() > 0
    await shot(page, "3-dispatched")


async def test_a_user_without_the_role_is_told_who_can_approve(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await login(browser, server, "ivan", "ivan-pass")
    await send(page, GOAL)
    await page.get_by_role("button", name="Approve").last.wait_for(timeout=30_000)
    await page.get_by_role("button", name="Approve").last.click()
    await page.get_by_text("Approval by ivan refused").first.wait_for(timeout=30_000)
    assert await page.get_by_text("Who can approve: ana").count() > 0
    await shot(page, "4-refused")


async def test_wrong_password_is_refused(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page()
    await page.goto(f"{server}/chat/")
    await page.get_by_label("Email address").fill("ana")
    await page.get_by_label("Password", exact=True).fill("wrong")
    await page.get_by_role("button", name="Sign In").click()
    await page.wait_for_timeout(1500)
    assert await page.locator("#chat-input").count() == 0
