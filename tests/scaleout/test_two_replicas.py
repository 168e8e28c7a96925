"""Two ``flowdraft serve`` replicas and two ``flowdraft worker`` processes over one PostgreSQL,
one Chroma server and one Temporal engine: what one replica starts, the other finishes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from assistant.bench.cluster import Process, Shared
from assistant.channels.slack.blocks import APPROVE
from assistant.db.engine import make_engine
from assistant.db.users import UserDirectory, add_user, link_slack
from assistant.runtime import store
from assistant.runtime.activation import rotate_hook_token
from tests.assistant.channels.test_slack_app import click_payload
from tests.runtime.test_serve_runs import full_invoice
from tests.support.servers import FakeSlack, serving
from tests.support.slack import BOT_TOKEN, CHANNEL, SIGNING_SECRET, LiveSlack, SlackWire, buttons

pytestmark = [pytest.mark.integration, pytest.mark.slow]
T = TypeVar("T")
GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
SETTLE = 45.0
"""Seconds the replicas get to reach the state a step of the test waits for."""
INVOICES = 24


def eventually(read: Callable[[], T], holds: Callable[[T], bool]) -> T:
    """Return ``read()`` once ``holds`` is true of it; fail after ``SETTLE`` seconds."""
    deadline = time.monotonic() + SETTLE
    while True:
        value = read()
        if holds(value):
            return value
        assert time.monotonic() < deadline, f"still {value}"
        time.sleep(0.2)


class Cluster:
    """The running replicas and what the test reads and talks to."""

    def __init__(self, shared: Shared, fake: FakeSlack, a: Process, b: Process) -> None:
        self.shared, self.fake, self.a, self.b = shared, fake, a, b
        self.db = make_engine(shared.database_url)

    def slack(self, replica: Process) -> LiveSlack:
        """Return Slack's side of ``replica``: signed requests to it, the fake it posts to."""
        wire = SlackWire(f"{replica.base}/slack/events", self.fake)
        return LiveSlack(wire, self.fake, None, replica.base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def cluster(postgres_url: str) -> Iterator[Cluster]:
    """Start the shared services, two replicas and two workers, with the finance team."""
    import psycopg

    name = f"scale_{int(time.time())}"
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    db = make_engine(url)
    for user, roles, slack_id in [("ana", ["manager"], "U0ANA"), ("carla", ["cfo"], "U0CARLA")]:
        add_user(db, name=user, roles=roles)
        link_slack(db, name=user, slack_user_id=slack_id)
    fake = FakeSlack(BOT_TOKEN, channels=(CHANNEL, "#finance"))
    with serving(fake):
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "FLOWDRAFT_SLACK_API_URL": fake.url,
        }
        with Shared(url, extra_env=env) as shared:
            a = shared.replica("replica-a")
            b = shared.replica("replica-b")
            shared.worker("worker-1")
            shared.worker("worker-2")
            yield Cluster(shared, fake, a, b)


def test_a_draft_from_one_replica_approved_on_the_other_runs_each_invoice_once(
    cluster: Cluster,
) -> None:
    fake = cluster.fake
    on_a, on_b = cluster.slack(cluster.a), cluster.slack(cluster.b)
    before = len(fake.posted)
    assert on_a.wire.command(GOAL, user="U0ANA").status_code == 200
    ts = fake.wait_for(lambda: fake.posted[before:], timeout=SETTLE)[0]["ts"]
    fake.wait_for(lambda: buttons(fake.messages[(CHANNEL, ts)]), timeout=SETTLE)

    # The CFO approves through the other replica: it resumes the thread replica A checkpointed.
    payload = click_payload(on_b, APPROVE, ts, user="U0CARLA")
    assert on_b.wire.send(on_b.wire.interaction_body(payload)).status_code == 200
    said = fake.wait_for(
        lambda: [p for p in fake.posted if p.get("thread_ts") == ts], timeout=SETTLE
    )
    assert "is live as automation au_" in said[0]["text"]
    [live] = store.list_automations(cluster.db, status="active")
    token = rotate_hook_token(
        cluster.db, automation_id=live.id, user="ana", directory=UserDirectory(cluster.db)
    )

    # Invoices under the CFO's threshold, each sent to both replicas at once.
    numbers = [f"INV-{n:03d}" for n in range(INVOICES)]
    headers = {"Authorization": f"Bearer {token}"}

    def send(replica: Process, number: str) -> tuple[str, int, str]:
        hook = f"{replica.base}/hooks/{live.id}"
        answer = httpx.post(hook, json=full_invoice(4_000, number), headers=headers, timeout=60)
        return number, answer.status_code, answer.json().get("run", "")

    with ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(send, r, n) for n in numbers for r in (cluster.a, cluster.b)]
        answers = [job.result() for job in jobs]
    runs_of: dict[str, set[str]] = {}
    for number, status, run_id in answers:
        assert status in (200, 202), (number, status)
        runs_of.setdefault(number, set()).add(run_id)
    assert all(len(ids) == 1 for ids in runs_of.values()), runs_of  # one run per event id
    assert sorted(s for _, s, _ in answers).count(202) == INVOICES

    def finished() -> list[Any]:
        return store.list_runs(cluster.db, automation_id=live.id)

    runs = eventually(
        finished, lambda rs: len(rs) == INVOICES and all(r.status == "completed" for r in rs)
    )
    assert {r.id for r in runs} == {next(iter(ids)) for ids in runs_of.values()}
    # Each invoice was announced in #finance exactly once, whichever worker ran it.
    summaries = [p["text"] for p in fake.posted if p.get("channel") == "#finance"]
    assert sorted(next(n for n in numbers if f"{n} " in text) for text in summaries) == numbers
