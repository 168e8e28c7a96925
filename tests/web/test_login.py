"""Signing in to the web chat: guesses are throttled, unknown names take as long as known ones."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.db.engine import make_engine
from assistant.db.users import add_user
from assistant.services import Services
from assistant.web.login import Limit, LoginThrottle
from assistant.web.process import ServerProcess
from tests.web.test_browser import browser

LOGIN = "/chat/login"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
__all__ = ["browser"]  # the fixture, shared with the other browser tests


@pytest.fixture(scope="module")
def server(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start `flowdraft serve` (default throttle) with five users; yield its base URL.

    One server for the module, in its own process (Chainlit's app is process-wide): each
    test signs in from its own loopback address instead.
    """
    home = tmp_path_factory.mktemp("login-home")
    (home / "chroma").symlink_to(services.settings.chroma_path)
    engine = make_engine(f"sqlite:///{home / 'flowdraft.db'}")
    for name in ("ana", "ben", "carol", "dora", "erin"):
        add_user(engine, name=name, roles=["manager"], password=f"{name}-pass")
    engine.dispose()
    process = ServerProcess(home)
    process.start()
    yield process.base
    process.stop()


@contextmanager
def client_at(server: str, address: str) -> Iterator[httpx.Client]:
    """Yield a client of ``server`` whose requests come from ``address`` (on loopback)."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=server, timeout=30, transport=transport) as client:
        yield client


def sign_in(client: httpx.Client, user: str, password: str) -> httpx.Response:
    return client.post(LOGIN, data={"username": user, "password": password})


def test_guessing_locks_the_user_out_even_for_the_right_password(server: str) -> None:
    with client_at(server, "127.0.0.2") as client:
        answers = [sign_in(client, "ana", f"guess-{n}").status_code for n in range(30)]
        assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    with client_at(server, "127.0.0.3") as elsewhere:
        right = sign_in(elsewhere, "ana", "ana-pass")
    assert right.status_code == 429
    assert int(right.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in right.json()["detail"]


def test_guessing_many_names_from_one_address_locks_the_address_out(server: str) -> None:
    with client_at(server, "127.0.0.4") as client:
        answers = [sign_in(client, f"user{n}", "guess").status_code for n in range(24)]
        assert answers[:20] == [401] * 20 and set(answers[20:]) == {429}
        assert sign_in(client, "ben", "ben-pass").status_code == 429
    with client_at(server, "127.0.0.5") as elsewhere:
        assert sign_in(elsewhere, "ben", "ben-pass").status_code == 200


def test_a_good_sign_in_clears_the_count(server: str) -> None:
    with client_at(server, "127.0.0.6") as client:
        for _ in range(2):
            assert [sign_in(client, "dora", "nope").status_code for _ in range(4)] == [401] * 4
            assert sign_in(client, "dora", "dora-pass").status_code == 200


def test_unknown_names_take_as_long_as_known_ones(server: str) -> None:
    known, unknown = [], []
    for n in range(16):
        with client_at(server, f"127.0.1.{n + 1}") as client:

            def seconds(user: str) -> float:
                started = time.perf_counter()
                assert sign_in(client, user, "wrong password").status_code == 401
                return time.perf_counter() - started

            known.append(seconds("carol"))
            unknown.append(seconds(f"nobody-{n}"))
            assert sign_in(client, "carol", "carol-pass").status_code == 200  # clears carol
    # scrypt dominates a sign-in: an unknown name that skipped it would be ~10x faster.
    assert statistics.median(unknown[1:]) / statistics.median(known[1:]) > 0.5


@pytest.mark.integration
async def test_the_sign_in_page_asks_for_a_user_name_and_says_when_to_retry(
    server: str,
    browser: Any,
) -> None:
    with client_at(server, "127.0.0.7") as client:
        assert {sign_in(client, "erin", "guess").status_code for _ in range(6)} == {401, 429}
    page = await browser.new_page()
    await page.goto(f"{server}/chat/")
    await page.get_by_label("User name").fill("erin")
    await page.get_by_label("Password", exact=True).fill("erin-pass")
    await page.get_by_role("button", name="Sign In").click()
    await page.get_by_text("Too many failed sign-ins").wait_for(timeout=15_000)
    assert await page.get_by_text("Email address").count() == 0
    await page.screenshot(path=str(SCREENSHOTS / "login-locked-out.png"))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_lockouts_expire_and_grow(database_url: str) -> None:
    clock = Clock()
    limit = Limit(failures=3, window=900, lockout=30, lockout_max=3600)
    throttle = LoginThrottle(make_engine(database_url), user=limit, address=limit, clock=clock)

    def attempts(count: int) -> list[float | None]:
        return [throttle.attempt(user="ana", address=f"10.0.0.{n}") for n in range(count)]

    assert attempts(4) == [None, None, None, 30]
    clock.now += timedelta(seconds=31)
    assert attempts(4) == [None, None, None, 60]  # the second lockout is longer
    clock.now += timedelta(seconds=61)
    assert throttle.attempt(user="ana", address="10.0.0.9") is None
    throttle.succeeded(user="ana", address="10.0.0.9")
    assert attempts(4)[-1] == 30  # a good sign-in forgave the earlier lockouts
