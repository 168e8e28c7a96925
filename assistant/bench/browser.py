"""Measure goal → draft on screen in a real browser, next to the same turn without the UI."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.services import build_services, open_runner
from assistant.settings import Settings
from assistant.web.process import ServerProcess

GOALS = [
    "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance",
    "Route incoming support tickets to billing or tech queues",
    "When someone leaves, revoke their access on their last day and tell #it",
]
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def without_ui(home: Path, runs: int) -> list[float]:
    """Time the same draft turns through the runner, in this process."""
    services = build_services(Settings(home=home))
    times = []
    async with open_runner(services) as runner:
        for i in range(runs + 1):
            started = time.perf_counter()
            async for _ in runner.send_text(f"bench-{i}", GOALS[i % len(GOALS)], "bench"):
                pass
            if i:
                times.append(time.perf_counter() - started)
    return times


async def with_ui(base: str, runs: int, chromium: str) -> list[float]:
    """Time Enter → the v1 draft heading visible, in headless Chromium."""
    from playwright.async_api import async_playwright

    times = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        context = await browser.new_context()  # one login, kept by the context's cookie
        for i in range(runs + 1):
            page = await context.new_page()
            await page.goto(f"{base}/chat/")
            if i == 0:
                await page.get_by_label("User name").fill("bench")
                await page.get_by_label("Password", exact=True).fill("bench-pass")
                await page.get_by_role("button", name="Sign In").click()
            await page.get_by_text("Describe a process to automate").wait_for(timeout=60_000)
            await page.locator("#chat-input").fill(GOALS[i % len(GOALS)])
            started = time.perf_counter()
            await page.keyboard.press("Enter")
            await page.get_by_text("— v1").first.wait_for(timeout=60_000)
            if i:
                times.append(time.perf_counter() - started)
            await page.close()
        await browser.close()
    return times


def run_web_timing(runs: int = 7) -> dict[str, Any]:
    """Start a server in a temporary home and measure both paths."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("Chromium is needed: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="flowdraft-webbench-") as tmp:
        home = Path(tmp)
        engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
        add_user(engine, name="bench", roles=["manager"], password="bench-pass")
        engine.dispose()
        server = ServerProcess(home)
        server.start(timeout=120)
        try:
            ui = asyncio.run(with_ui(server.base, runs, chromium))
        finally:
            server.stop()
        plain = asyncio.run(without_ui(home, runs))
    return {
        "runs": runs,
        "goal_to_draft_on_screen_median_ms": round(statistics.median(ui) * 1000, 1),
        "same_turn_without_ui_median_ms": round(statistics.median(plain) * 1000, 1),
    }
