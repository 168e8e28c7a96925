"""Runs waiting for people reach them in Slack: asked once, reminded, escalated, answered.

The notifier reads the inbox a run engine writes (the in-memory engine here, indexing like
Temporal runs do) and talks to a local Slack Web API that records every call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from assistant.channels.slack.notifier import RunNotifier, run_notifier
from assistant.channels.slack.runs import RUN_APPROVE, RUN_REJECT
from assistant.db.engine import make_engine
from assistant.db.tables import utcnow
from assistant.db.users import UserDirectory, add_user, link_slack
from assistant.policy.rules import DEFAULT_POLICY, Policy, load_policy
from assistant.runtime import store
from assistant.runtime.activation import activate
from assistant.runtime.indexing import record_run
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.service import AutomationDesk
from assistant.services import Services
from assistant.settings import ConnectorSettings
from tests.runtime.conftest import invoice_draft
from tests.support.servers import FakeSlack, serving
from tests.support.slack import blocks_text, buttons

TOKEN = "xoxb-notices"
PEOPLE = {"ana": ["finance"], "carla": ["cfo"], "erin": ["ceo"], "dan": ["controller"]}
SLACK_IDS = {"carla": "U0CARLA", "erin": "U0ERIN", "dan": "U0DAN"}


def invoice_event(amount: int = 52_000) -> dict[str, Any]:
    """Return an invoice as the AP inbox sends it, submitted by ana."""
    return {
        "invoice": {
            "vendor": "Acme",
            "number": "INV-204",
            "amount": amount,
            "currency": "USD",
            "due": "2026-12-12",
            "submitted_by": "ana",
        }
    }


@dataclass
class Office:
    """The finance team's database, engine, desk and a notifier on a settable clock."""

    db: Engine
    desk: AutomationDesk
    engine: MemoryEngine
    fake: FakeSlack
    notifier: RunNotifier
    now: list[datetime]
    automation_id: str

    def notifier_again(self) -> RunNotifier:
        """Return another notifier on the same database (a restart, another replica)."""
        return RunNotifier(
            self.db,
            self.notifier.client,
            directory=self.notifier.directory,
            policy=self.notifier.policy,
            clock=lambda: self.now[0],
        )

    def posts_to(self, channel: str) -> list[dict[str, Any]]:
        return [p for p in self.fake.posted if p["channel"] == channel]


def office_policy(tmp_path: Path, channels: str = "{}") -> Policy:
    """Return the shipped policy, with run approvals of some roles posted in channels."""
    text = DEFAULT_POLICY.read_text()
    text = text.replace("  slack_channels: {}", f"  slack_channels: {channels}")
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return load_policy(path)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with serving(FakeSlack(TOKEN, channels=("#finance", "#finance-approvals"))) as server:
        assert isinstance(server, FakeSlack)
        yield server


async def office_with(tmp_path: Path, fake: FakeSlack, policy: Policy) -> Office:
    db = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    for name, roles in PEOPLE.items():
        add_user(db, name=name, roles=roles)
        if name in SLACK_IDS:
            link_slack(db, name=name, slack_user_id=SLACK_IDS[name])
    directory = UserDirectory(db)
    engine = MemoryEngine(db=db, directory=directory, policy=policy)
    desk = AutomationDesk(db, engine, directory=directory, policy=policy)
    live = activate(db, draft=invoice_draft(), approvals=["carla"], owner="ana")
    now = [utcnow()]
    client = AsyncWebClient(token=TOKEN, base_url=fake.url)
    notifier = RunNotifier(db, client, directory=directory, policy=policy, clock=lambda: now[0])
    return Office(db, desk, engine, fake, notifier, now, live.automation.id)


@pytest.fixture
async def office(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Office]:
    yield await office_with(tmp_path, fake, load_policy())


async def test_a_waiting_run_asks_the_cfo_once_with_its_values_and_buttons(office: Office) -> None:
    started = await office.desk.start(office.automation_id, invoice_event(), actor="hook")
    await office.notifier.sweep()
    await office.notifier.sweep()
    await office.notifier_again().sweep()  # a restart or a second server asks nobody again

    assert [c["args"]["users"] for c in office.fake.calls if c["method"] == "conversations.open"][
        :1
    ] == ["U0CARLA"]
    dm = office.posts_to("D0CARLA")
    assert len(dm) == 1 and not [p for p in office.fake.posted if p["channel"] != "D0CARLA"]
    shown = blocks_text(dm[0]["blocks"])
    assert "Invoice INV-204" in shown and "Vendor: Acme" in shown
    assert "Amount: 52,000 USD" in shown and "Due: 12 Dec 2026" in shown
    assert "Vendor invoice triage* v1" in shown and started.run.id in shown
    assert "needs cfo" in shown and "decide by " in shown and "{" not in shown
    assert buttons(dm[0]) == [RUN_APPROVE, RUN_REJECT]
    assert "Invoice INV-204" in dm[0]["text"] and "52,000 USD" in dm[0]["text"]


async def test_a_reminder_goes_in_the_thread_once_after_the_reminder_time(office: Office) -> None:
    await office.desk.start(office.automation_id, invoice_event(), actor="hook")
    await office.notifier.sweep()
    asked = office.posts_to("D0CARLA")[0]
    office.now[0] += timedelta(hours=23)
    await office.notifier.sweep()
    assert len(office.posts_to("D0CARLA")) == 1  # not yet: the default reminds after 24h
    office.now[0] += timedelta(hours=2)
    await office.notifier.sweep()
    await office.notifier_again().sweep()
    reminders = office.posts_to("D0CARLA")[1:]
    assert len(reminders) == 1 and reminders[0]["thread_ts"] == asked["ts"]
    assert "Reminder" in reminders[0]["text"] and "CFO sign-off" in reminders[0]["text"]


async def test_escalation_asks_the_next_tier_and_a_decision_anywhere_closes_every_message(
    office: Office,
) -> None:
    started = await office.desk.start(office.automation_id, invoice_event(), actor="hook")
    await office.notifier.sweep()
    # The durable engine reports an overdue step escalated to the ceo in its run snapshot.
    run = await office.engine.run(started.run.id)
    waiting = next(s for s in run.steps if s.status == "waiting")
    waiting.input |= {"escalated_to": ["ceo"], "due_at": (utcnow() + timedelta(days=5)).isoformat()}
    record_run(office.db, run=run, title="Vendor invoice triage")
    await office.notifier.sweep()
    to_erin = office.posts_to("D0ERIN")
    assert len(to_erin) == 1 and "Escalated to ceo" in blocks_text(to_erin[0]["blocks"])
    assert buttons(to_erin[0]) == [RUN_APPROVE, RUN_REJECT]

    # Decided from the CLI (or the web): both messages lose their buttons and say so.
    item = office.desk.inbox("carla")[0]
    assert (await office.desk.decide(item.id, user="carla", accept=True)).ok
    await office.notifier.sweep()
    for channel, ts in (
        ("D0CARLA", office.posts_to("D0CARLA")[0]["ts"]),
        ("D0ERIN", to_erin[0]["ts"]),
    ):
        message = office.fake.message(channel, ts)
        assert not buttons(message)
        assert "Approved by carla; the run goes on" in blocks_text(message["blocks"])
    assert store.get_run(office.db, run_id=started.run.id).status == "completed"  # type: ignore[union-attr]


async def test_a_role_with_a_channel_is_asked_there_and_a_failed_post_is_tried_later(
    tmp_path: Path, fake: FakeSlack
) -> None:
    office = await office_with(
        tmp_path, fake, office_policy(tmp_path, '{cfo: "#finance-approvals"}')
    )
    await office.desk.start(office.automation_id, invoice_event(), actor="hook")
    fake.behaviour.statuses = [500]  # Slack has a bad moment
    await office.notifier.sweep()
    await office.notifier.sweep()
    assert not office.posts_to("#finance-approvals")  # not hammered at every sweep
    office.now[0] += timedelta(minutes=2)
    await office.notifier.sweep()
    posted = office.posts_to("#finance-approvals")
    assert len(posted) == 1 and "Amount: 52,000 USD" in blocks_text(posted[0]["blocks"])
    assert not [c for c in fake.calls if c["method"] == "conversations.open"]


async def test_a_rejection_elsewhere_shows_who_and_why(office: Office) -> None:
    await office.desk.start(office.automation_id, invoice_event(), actor="hook")
    await office.notifier.sweep()
    item = office.desk.inbox("carla")[0]
    assert (await office.desk.decide(item.id, user="carla", accept=False, reason="duplicate")).ok
    await office.notifier.sweep()
    asked = office.posts_to("D0CARLA")[0]
    message = office.fake.message("D0CARLA", asked["ts"])
    assert not buttons(message)
    assert "Rejected by carla: duplicate" in blocks_text(message["blocks"])


def test_without_slack_set_up_nothing_is_sent(services: Services) -> None:
    assert run_notifier(services, ConnectorSettings()) is None
    # A bot token alone (actions post messages) sends no buttons that nobody could click.
    assert run_notifier(services, ConnectorSettings(slack_bot_token="xoxb-1")) is None
    set_up = ConnectorSettings(slack_bot_token="xoxb-1", slack_signing_secret="s")
    assert run_notifier(services, set_up) is not None


async def test_past_the_decide_within_time_the_next_tier_is_asked_whatever_the_engine(
    office: Office,
) -> None:
    await office.desk.start(office.automation_id, invoice_event(), actor="hook")
    await office.notifier.sweep()
    office.now[0] += timedelta(hours=47)
    await office.notifier.sweep()
    assert not office.posts_to("D0ERIN")  # the shipped policy escalates after 48h
    office.now[0] += timedelta(hours=2)
    await office.notifier.sweep()
    [to_erin] = office.posts_to("D0ERIN")
    assert "Escalated to ceo" in blocks_text(to_erin["blocks"])
    assert buttons(to_erin) == [RUN_APPROVE, RUN_REJECT]


async def test_an_expired_request_says_so_instead_of_naming_a_decider(office: Office) -> None:
    started = await office.desk.start(office.automation_id, invoice_event(), actor="hook")
    await office.notifier.sweep()
    # The durable engine reports the request expired: the step closed, the run cancelled.
    run = await office.engine.run(started.run.id)
    waiting = next(s for s in run.steps if s.status == "waiting")
    waiting.status, waiting.detail = "rejected", "expired: no decision within 168h; resubmit it"
    run.status = "cancelled"
    record_run(office.db, run=run, title="Vendor invoice triage")
    await office.notifier.sweep()
    asked = office.posts_to("D0CARLA")[0]
    shown = blocks_text(office.fake.message("D0CARLA", asked["ts"])["blocks"])
    assert "No longer waiting: expired: no decision within 168h" in shown
    assert "Rejected by" not in shown
