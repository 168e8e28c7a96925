"""Measure goal → draft on screen in a real browser, next to the same turn without the UI."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.services import build_services, open_runner
from assistant.settings import Settings

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


def free_port() -> int:
    """Return a free TCP port on loopback."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
                await page.get_by_label("Email address").fill("bench")
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
        port = free_port()
        env = {**os.environ, "FLOWDRAFT_HOME": str(home)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            ui = asyncio.run(with_ui(base, runs, chromium))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        plain = asyncio.run(without_ui(home, runs))
    return {
        "runs": runs,
        "goal_to_draft_on_screen_median_ms": round(statistics.median(ui) * 1000, 1),
        "same_turn_without_ui_median_ms": round(statistics.median(plain) * 1000, 1),
    }
