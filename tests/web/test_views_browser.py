"""The Automations, Runs and Inbox pages in headless Chromium, on a real `flowdraft serve`.

The server runs the embedded Temporal engine on free loopback ports; the invoice
automation's first step posts to a webhook receiver on loopback that the test scripts.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from assistant.bench.browser import BROWSER_ARGS
from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.runtime.activation import activate
from assistant.services import Services
from assistant.web.process import ServerProcess, free_port
from tests.runtime.conftest import invoice_draft
from tests.runtime.test_serve_runs import chat
from tests.support.servers import WebhookReceiver

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
POLICY = Path(__file__).resolve().parents[2] / "assistant" / "policy" / "default.yaml"
SECRET = "test-webhook-secret"
PEOPLE = {"ana": ["finance"], "carla": ["cfo"], "dan": ["controller"], "root": ["admin"]}
WAIT = 30_000
"""Milliseconds the pages get to show what a step waits for."""


@dataclass
class Live:
    """The running server, its invoice automation and the webhook receiver it posts to."""

    base: str
    automation: str
    token: str
    receiver: WebhookReceiver
    home: Path
    env: dict[str, str]

    def post(self, amount: int, number: str) -> httpx.Response:
        """Send an invoice event to the automation's hook."""
        event = {
            "id": number,
            "invoice": {
                "vendor": "Acme Freight",
                "number": number,
                "amount": amount,
                "submitted_by": "ana",
            },
        }
        return httpx.post(
            f"{self.base}/hooks/{self.automation}",
            json=event,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[Live]:
    """Start `flowdraft serve` with an engine and the invoice automation live."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed here; scripts/test installs it")
    home = tmp_path_factory.mktemp("views-home")
    (home / "chroma").symlink_to(services.settings.chroma_path)
    receiver = WebhookReceiver(SECRET)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    policy = yaml.safe_load(POLICY.read_text())
    policy["destinations"]["webhook_hosts"].append("127.0.0.1")
    (home / "policy.yaml").write_text(yaml.safe_dump(policy))
    db = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    for name, roles in PEOPLE.items():
        add_user(db, name=name, roles=roles, password=f"{name}-pass")
    draft = invoice_draft()
    erp = draft.steps[0].model_copy(
        update={"params": {**draft.steps[0].params, "url": f"{receiver.url}/erp"}}
    )
    draft = draft.model_copy(update={"steps": [erp, *draft.steps[1:]]}).sealed()
    activation = activate(db, draft=draft, approvals=["carla"], owner="ana")
    db.dispose()
    env = {
        "FLOWDRAFT_POLICY": str(home / "policy.yaml"),
        "FLOWDRAFT_WEBHOOK_SECRET": SECRET,
        "FLOWDRAFT_TEMPORAL_ENABLED": "true",
        "FLOWDRAFT_TEMPORAL_PORT": str(free_port()),
        "FLOWDRAFT_TEMPORAL_HTTP_PORT": str(free_port()),
        "FLOWDRAFT_TEMPORAL_METRICS_PORT": str(free_port()),
        "FLOWDRAFT_TEMPORAL_UI_PORT": str(free_port()),
        "FLOWDRAFT_TEMPORAL_UI": "false",
    }
    process = ServerProcess(home, env=env)
    process.start()
    assert activation.hook_token is not None
    try:
        yield Live(
            process.base, activation.automation.id, activation.hook_token, receiver, home, env
        )
    finally:
        process.stop()
        receiver.shutdown()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        await launched.close()


async def sign_in(browser: Any, base: str, user: str, path: str) -> Any:
    """Open ``path`` as ``user``: the page sends a stranger to the chat's sign-in first."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{base}{path}")
    await page.get_by_label("User name").fill(user)
    await page.get_by_label("Password", exact=True).fill(f"{user}-pass")
    await page.get_by_role("button", name="Sign In").click()
    await page.locator("#chat-input").wait_for(timeout=WAIT)
    if path != "/chat/":
        await page.goto(f"{base}{path}")
        await page.locator("body[data-ready]").wait_for(timeout=WAIT)
    return page


def post_as(live: Live, user: str, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST ``body`` to a page's action as ``user``, signed in through the chat's own form."""
    with httpx.Client(base_url=live.base, timeout=30) as client:
        signed = client.post("/chat/login", data={"username": user, "password": f"{user}-pass"})
        assert signed.status_code == 200, signed.text
        return client.post(path, json=body, headers={"Origin": live.base})


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_stranger_is_sent_to_the_chat_sign_in(live: Live) -> None:
    page = httpx.get(f"{live.base}/app/inbox", follow_redirects=False, timeout=30)
    assert page.status_code == 303 and page.headers["location"] == "/chat/login"
    forged = {"access_token": "not-a-token"}
    assert httpx.get(f"{live.base}/app/runs", cookies=forged, timeout=30).status_code == 303
    change = httpx.post(
        f"{live.base}/app/automations/{live.automation}/status",
        json={"change": "pause"},
        timeout=30,
    )
    assert change.status_code == 401
    assert httpx.get(f"{live.base}/app/inbox.json", timeout=30).status_code == 401
    nested = httpx.post(
        f"{live.base}/app/inbox/x",
        content=b"[" * 20_000,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert nested.status_code == 400  # refused before anything parses it, not a 500


async def test_a_change_from_another_site_is_refused(live: Live, browser: Any) -> None:
    page = await sign_in(browser, live.base, "ana", "/app/automations")
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    url = f"{live.base}/app/automations/{live.automation}/status"
    foreign = httpx.post(
        url,
        json={"change": "pause"},
        cookies=cookies,
        headers={"Origin": "https://elsewhere.example"},
        timeout=30,
    )
    assert foreign.status_code == 403 and "Flowdraft pages" in foreign.text
    as_form = httpx.post(
        url, data={"change": "pause"}, cookies=cookies, headers={"Origin": live.base}, timeout=30
    )
    assert as_form.status_code == 415
    shown = httpx.get(f"{live.base}/app/automations/{live.automation}", cookies=cookies)
    assert "active" in shown.text and shown.status_code == 200


async def test_the_cfo_approves_a_waiting_run_from_the_inbox(live: Live, browser: Any) -> None:
    page = await sign_in(browser, live.base, "carla", "/app/inbox")
    await page.locator("#inbox[data-ready]").wait_for(state="attached", timeout=WAIT)
    posted = live.post(52_000, "INV-204")
    assert posted.status_code == 202, posted.text
    run_id = posted.json()["run"]
    card = page.locator(f'[data-item="{run_id}.s3"]')  # appears without a reload
    await card.wait_for(timeout=WAIT)
    assert await card.get_by_text("52000").count() > 0
    assert await card.get_by_text("INV-204").count() > 0
    await shot(page, "views-1-inbox")

    refused = post_as(live, "dan", f"/app/inbox/{run_id}.s3", {"decision": "accept"})
    assert refused.status_code == 403 and "carla" in refused.json()["message"]
    await card.locator("input[name=reason]").fill("Matches PO-7")
    await card.get_by_role("button", name="Approve").click()
    await card.locator(".outcome.ok").wait_for(timeout=WAIT)
    await card.get_by_role("link", name=f"run {run_id}").click()
    await page.locator('#run-status[data-status="completed"]').wait_for(timeout=WAIT)
    step = page.locator('[data-step="s3"]')
    assert await step.get_by_text("by carla").count() > 0
    posted_step = page.locator('[data-step="s6"]')
    assert await posted_step.get_by_text("Invoice INV-204 from Acme Freight for 52000").count()
    await shot(page, "views-2-run-completed")


async def test_pausing_from_the_web_stops_new_runs(live: Live, browser: Any) -> None:
    page = await sign_in(browser, live.base, "ana", f"/app/automations/{live.automation}")
    await page.get_by_role("button", name="Pause").click()
    await page.locator("#flash.ok").get_by_text("is now paused").wait_for(timeout=WAIT)
    assert await page.locator("#automation-status").get_by_text("paused").count() == 1
    await shot(page, "views-3-paused")
    refused = live.post(7_000, "INV-300")
    assert refused.status_code == 409 and "paused" in refused.text
    await page.locator("body[data-ready]").wait_for(timeout=WAIT)
    await page.get_by_role("button", name="Resume").click()
    await page.locator("#flash.ok").get_by_text("is now active").wait_for(timeout=WAIT)


async def test_a_user_without_the_role_is_told_who_may(live: Live, browser: Any) -> None:
    page = await sign_in(browser, live.base, "dan", f"/app/automations/{live.automation}")
    await page.get_by_role("button", name="Pause").click()
    refusal = page.locator("#flash.refused")
    await refusal.wait_for(timeout=WAIT)
    text = await refusal.inner_text()
    assert "dan may not pause Vendor invoice triage v1" in text
    assert "ana" in text and "carla" in text and "root" in text
    await shot(page, "views-4-refused")


async def test_a_failed_run_is_retried_from_the_web(live: Live, browser: Any) -> None:
    live.receiver.behaviour.statuses = [400]  # the ERP refuses once, then accepts
    posted = live.post(5_000, "INV-400")
    run_id = posted.json()["run"]
    page = await sign_in(browser, live.base, "root", f"/app/runs/{run_id}")
    await page.locator('#run-status[data-status="failed"]').wait_for(timeout=WAIT)
    assert await page.locator('[data-step="s1"]').get_by_text("refused with 400").count() == 1
    await shot(page, "views-5-failed")
    refused = post_as(live, "dan", f"/app/runs/{run_id}/retry", {})
    assert refused.status_code == 403 and "dan may not retry" in refused.json()["message"]
    await page.get_by_role("button", name="Retry from the failed step").click()
    await page.locator('#run-status[data-status="completed"]').wait_for(timeout=WAIT)
    assert not page.url.endswith(f"/app/runs/{run_id}")  # the retry is a run of its own
    await shot(page, "views-6-retried")

    await page.goto(f"{live.base}/app/runs?status=completed")
    await page.locator("#runs-per-day[data-ready]").wait_for(timeout=WAIT)
    await page.locator("#approval-waits[data-ready]").wait_for(timeout=WAIT)
    await shot(page, "views-7-runs")


async def test_a_draft_is_approved_from_the_inbox_and_an_old_version_comes_back_as_a_draft(
    live: Live, browser: Any
) -> None:
    goal = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
    said = chat(
        live.home,
        live.env,
        {"text": goal, "user": "ana", "thread": "t-review"},
        {"text": "send it to #ops instead", "user": "ana", "thread": "t-review"},
    )
    assert [e["workflow"]["version"] for e in said if e["type"] == "draft"] == [1, 2]
    carla = await sign_in(browser, live.base, "carla", "/app/inbox")
    card = carla.locator('[data-item="review:t-review"]')
    await card.wait_for(timeout=WAIT)
    assert await card.get_by_role("heading", name="Vendor invoice triage — v2").count() == 1
    assert await card.get_by_text("Requested by ana").count() == 1
    await shot(carla, "views-8-review-in-inbox")
    await card.get_by_role("button", name="Approve").click()
    outcome = card.locator(".outcome.ok")
    await outcome.wait_for(timeout=WAIT)
    went_live = re.search(r"is live as automation (au_\w+)", await outcome.inner_text())
    assert went_live, await outcome.inner_text()

    ana = await sign_in(browser, live.base, "ana", f"/app/automations/{went_live[1]}")
    first = ana.locator('[data-version="1"]')
    await ana.locator('[data-version="2"]').get_by_text("What changed from v1").click()
    assert await ana.locator('[data-version="2"] .diff .add').get_by_text("#ops").count() > 0
    await first.get_by_role("button", name="Revert to this version").click()
    await ana.locator("#flash.ok").get_by_text("has the content of v1").wait_for(timeout=WAIT)
    await shot(ana, "views-9-reverted")
    assert await ana.locator('[data-version="3"]').get_by_text("waits for review").count() == 1
    assert await ana.locator("#automation-status").get_by_text("active").count() == 1

    await carla.reload()
    await carla.get_by_role("heading", name="Vendor invoice triage — v3").wait_for(timeout=WAIT)
    assert await carla.locator('[data-item="review:t-review"]').get_by_text("#finance").count()


async def test_the_chat_links_to_the_pages(live: Live, browser: Any) -> None:
    page = await sign_in(browser, live.base, "carla", "/chat/")
    await shot(page, "views-10-chat-header")
    await page.get_by_role("link", name="Inbox").click()
    await page.get_by_role("heading", name="Inbox").wait_for(timeout=WAIT)
    await page.get_by_role("link", name="Runs").click()
    await page.locator("#runs-per-day[data-ready]").wait_for(timeout=WAIT)


async def test_a_new_hook_token_is_shown_once_and_replaces_the_old_one(
    live: Live, browser: Any
) -> None:
    page = await sign_in(browser, live.base, "ana", f"/app/automations/{live.automation}")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="New hook token").click()
    await page.locator("#token:not([hidden])").wait_for(timeout=WAIT)
    token = (await page.locator("#token-value").inner_text()).strip()
    await shot(page, "views-11-new-token")
    old, live.token = live.token, token
    assert token.startswith("fh_") and token != old
    assert live.post(6_000, "INV-500").status_code == 202
    live.token = old
    assert live.post(6_000, "INV-501").status_code == 401
    live.token = token
    await page.reload()
    await page.locator("body[data-ready]").wait_for(timeout=WAIT)
    assert await page.get_by_text(token).count() == 0  # shown once, never again
    await page.goto(f"{live.base}/app/automations")
    row = page.locator(f'[data-automation="{live.automation}"]')
    await row.get_by_role("link", name="completed").first.wait_for(timeout=WAIT)
    await shot(page, "views-12-automations")
