"""Run approvals in Slack end to end: `flowdraft serve`'s app on loopback, a run engine
indexing into its database, signed requests in Slack's wire formats, and a local Slack Web
API that records every call."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from assistant.channels.slack.runs import RUN_APPROVE, RUN_REJECT, RUN_REJECT_VIEW
from assistant.db.users import add_user, link_slack
from assistant.policy import PolicyChecker
from assistant.policy.rules import DEFAULT_POLICY, load_policy
from assistant.runtime import store
from assistant.runtime.activation import activate
from assistant.runtime.memory import MemoryEngine
from assistant.runtime.models import Run
from assistant.runtime.service import AutomationDesk
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.web.server import create_app
from tests.runtime.conftest import invoice_draft
from tests.support.live import serving_app
from tests.support.servers import FakeSlack, serving
from tests.support.slack import (
    BOT_TOKEN,
    CHANNEL,
    SIGNING_SECRET,
    SlackWire,
    blocks_text,
    buttons,
    services_at,
)

pytestmark = pytest.mark.integration

PEOPLE = {
    "ana": (["finance"], "U0ANA"),
    "ben": ([], "U0BEN"),
    "carla": (["cfo"], "U0CARLA"),
    "dan": (["controller"], "U0DAN"),
    "erin": (["ceo"], "U0ERIN"),
}
REMIND_AFTER_HOURS = 5 / 3600
"""Reminders five seconds after a run starts waiting, so one arrives during the test."""


@dataclass
class Office:
    """The server with Slack set up, the fake Slack, and the run engine it decides on."""

    wire: SlackWire
    fake: FakeSlack
    services: Services
    engine: MemoryEngine
    desk: AutomationDesk
    automation_id: str
    invoices: int = 0

    def start_invoice(self, amount: int = 52_000) -> Run:
        """Start a run for a new invoice from Acme, submitted by ana; return it."""
        self.invoices += 1
        event = {
            "invoice": {
                "vendor": "Acme",
                "number": f"INV-{200 + self.invoices}",
                "amount": amount,
                "currency": "USD",
                "due": "2026-12-12",
                "submitted_by": "ana",
            }
        }
        return asyncio.run(self.desk.start(self.automation_id, event, actor="hook")).run

    def dm_about(self, run: Run, user: str = "U0CARLA") -> dict[str, Any]:
        """Wait for the direct message asking ``user`` about ``run``; return it as it stands."""
        channel = "D" + user[1:]
        posted = self.fake.wait_for(
            lambda: [
                p
                for p in self.fake.posted
                if p["channel"] == channel and run.id in blocks_text(p.get("blocks") or [])
            ]
        )[0]
        return self.fake.message(channel, posted["ts"]) | {"ts": posted["ts"], "channel": channel}

    def click(self, action_id: str, message: dict[str, Any], *, user: str) -> dict[str, Any]:
        """Click a run button of ``message`` as ``user``; return the payload sent."""
        payload = SlackWire.click_payload(
            action_id, message["ts"], user=user, channel=message["channel"]
        )
        payload["actions"][0]["value"] = button_value(message, action_id)
        assert self.wire.send(self.wire.interaction_body(payload)).status_code == 200
        return payload

    def whispers_to(self, user: str) -> list[dict[str, Any]]:
        return [e for e in self.fake.ephemeral if e["user"] == user]


def button_value(message: dict[str, Any], action_id: str) -> str:
    return next(
        e["value"]
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


@pytest.fixture(scope="module")
def office(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    home = tmp_path_factory.mktemp("slack-runs")
    policy_file = home / "policy.yaml"
    policy_file.write_text(
        DEFAULT_POLICY.read_text().replace(
            "default: {remind_after: 24,", f"default: {{remind_after: {REMIND_AFTER_HOURS},"
        )
    )
    policy = load_policy(policy_file)
    fake = FakeSlack(BOT_TOKEN, channels=(CHANNEL, "#finance"))
    # Module fixtures start before the per-test environment: runs stay on the memory engine.
    with pytest.MonkeyPatch.context() as env, serving(fake):
        env.setenv("FLOWDRAFT_TEMPORAL_ENABLED", "false")
        built = dataclasses.replace(
            services_at(services, home, fake.url), policy=PolicyChecker(policy)
        )
        for name, (roles, slack_id) in PEOPLE.items():
            add_user(built.engine, name=name, roles=roles)
            link_slack(built.engine, name=name, slack_user_id=slack_id)
        engine = MemoryEngine(db=built.engine, policy=policy, directory=built.directory)
        built.runs = engine
        desk = AutomationDesk(built.engine, engine, directory=built.directory, policy=policy)
        live = activate(built.engine, draft=invoice_draft(), approvals=["carla"], owner="ana")
        credentials = ConnectorSettings(
            slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET
        )
        with serving_app(create_app(built, credentials)) as base:
            wire = SlackWire(f"{base}/slack/events", fake)
            yield Office(wire, fake, built, engine, desk, live.automation.id)


def test_the_cfo_is_asked_in_a_dm_refusals_are_private_and_her_click_completes_the_run(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    run = office.start_invoice()
    message = office.dm_about(run)
    shown = blocks_text(message["blocks"])
    assert "Invoice INV-" in shown and "Amount: 52,000 USD" in shown and "Due: 12 Dec 2026" in shown
    assert "Vendor invoice triage* v1" in shown and "decide by " in shown
    assert buttons(message) == [RUN_APPROVE, RUN_REJECT]

    # A controller and the submitter are refused privately, told who can decide; buttons stay.
    office.click(RUN_APPROVE, message, user="U0DAN")
    refused = office.fake.wait_for(lambda: office.whispers_to("U0DAN"))[-1]
    assert (
        "does not hold the cfo role" in refused["text"]
        and "who can decide: carla" in refused["text"]
    )
    office.click(RUN_APPROVE, message, user="U0ANA")
    submitter = office.fake.wait_for(lambda: office.whispers_to("U0ANA"))[-1]
    assert "separation of duties" in submitter["text"] and "carla" in submitter["text"]
    assert buttons(office.fake.message(message["channel"], message["ts"]))

    caplog.set_level(logging.INFO, logger="assistant.channels.slack.app")
    payload = office.click(RUN_APPROVE, message, user="U0CARLA")
    body = office.wire.interaction_body(payload)
    assert office.wire.send(body, office.wire.headers(body, retry=1)).status_code == 200
    assert [r for r in caplog.records if "seen before" in r.msg and payload["trigger_id"] in r.args]
    office.fake.wait_for(
        lambda: not buttons(office.fake.messages[message["channel"], message["ts"]])
    )
    after = blocks_text(office.fake.message(message["channel"], message["ts"])["blocks"])
    assert "Approved by carla; the run goes on" in after and "Amount: 52,000 USD" in after
    assert store.get_run(office.services.engine, run_id=run.id).status == "completed"  # type: ignore[union-attr]

    # A second click is refused, privately: the run was decided once.
    before = len(office.whispers_to("U0CARLA"))
    office.click(RUN_APPROVE, message, user="U0CARLA")  # as shown before the decision
    again = office.fake.wait_for(lambda: office.whispers_to("U0CARLA")[before:])[0]
    assert "already decided by carla" in again["text"]
    summaries = [a for a in office.engine.actions if a["run"] == run.id and a["step"] == "s6"]
    assert len(summaries) == 1


def test_reject_asks_for_a_reason_in_a_modal_and_the_message_says_it(office: Office) -> None:
    run = office.start_invoice()
    message = office.dm_about(run)
    views = len(office.fake.views)
    office.click(RUN_REJECT, message, user="U0BEN")  # no role: told so, no form to fill in
    refused = office.fake.wait_for(lambda: office.whispers_to("U0BEN"))[-1]
    assert "does not hold the cfo role" in refused["text"] and "carla" in refused["text"]
    office.click(RUN_REJECT, message, user="U0CARLA")
    view = office.fake.wait_for(lambda: office.fake.views[views:])[0]["view"]
    assert view["callback_id"] == RUN_REJECT_VIEW

    empty = {"reason": {"text": {"type": "plain_text_input", "value": None}}}
    assert office.wire.submit(view, empty, user="U0CARLA").json()["response_action"] == "errors"
    reason = {"reason": {"text": {"type": "plain_text_input", "value": "Duplicate of INV-150"}}}
    assert office.wire.submit(view, reason, user="U0CARLA").status_code == 200
    office.fake.wait_for(
        lambda: not buttons(office.fake.messages[message["channel"], message["ts"]])
    )
    after = blocks_text(office.fake.message(message["channel"], message["ts"])["blocks"])
    assert "Rejected by carla: Duplicate of INV-150" in after
    assert store.get_run(office.services.engine, run_id=run.id).status == "rejected"  # type: ignore[union-attr]
    assert len(office.fake.views) == views + 1  # only carla was asked for a reason


def test_a_reminder_arrives_in_the_dm_thread_before_the_timeout(office: Office) -> None:
    run = office.start_invoice()
    message = office.dm_about(run)
    reminder = office.fake.wait_for(
        lambda: [p for p in office.fake.posted if p.get("thread_ts") == message["ts"]]
    )
    assert len(reminder) == 1 and "Reminder" in reminder[0]["text"]
    assert reminder[0]["channel"] == message["channel"] and "CFO sign-off" in reminder[0]["text"]


def test_flowdraft_inbox_lists_what_the_caller_may_decide_and_runs_lists_recent_runs(
    office: Office,
) -> None:
    help_text = office.wire.command("help").json()["text"]
    assert "/flowdraft inbox" in help_text and "/flowdraft runs" in help_text

    run = office.start_invoice(64_000)
    office.dm_about(run)
    answered = len(office.fake.responses)
    ack = office.wire.command("inbox", user="U0CARLA")
    assert ack.status_code == 200 and ack.json()["response_type"] == "ephemeral"
    listing = office.fake.wait_for(lambda: office.fake.responses[answered:])[0]
    shown = blocks_text(listing["blocks"])
    assert listing["response_type"] == "ephemeral" and run.id in shown
    assert "Amount: 64,000 USD" in shown and RUN_APPROVE in buttons(listing)

    answered = len(office.fake.responses)
    office.wire.command("inbox", user="U0BEN")
    nothing = office.fake.wait_for(lambda: office.fake.responses[answered:])[0]
    assert "Nothing waits for your decision" in blocks_text(nothing["blocks"])

    # Approving from the list replaces it with the outcome.
    answered = len(office.fake.responses)
    payload = SlackWire.click_payload(RUN_APPROVE, "1.000001", user="U0CARLA")
    payload["container"]["is_ephemeral"] = True
    payload["response_url"] = office.fake.response_url("inbox")
    payload["actions"][0]["value"] = next(
        e["value"]
        for b in listing["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == RUN_APPROVE and e["value"].startswith(run.id)
    )
    office.wire.send(office.wire.interaction_body(payload))
    replaced = office.fake.wait_for(lambda: office.fake.responses[answered:])[0]
    assert replaced["replace_original"] is True
    assert "Approved by carla; the run goes on" in blocks_text(replaced["blocks"])

    waiting = office.start_invoice(70_000)
    office.dm_about(waiting)
    answered = len(office.fake.responses)
    office.wire.command("runs", user="U0DAN")
    runs = blocks_text(office.fake.wait_for(lambda: office.fake.responses[answered:])[0]["blocks"])
    assert waiting.id in runs and run.id in runs and "*completed*" in runs
    assert "waiting on cfo (carla" in runs and "Vendor invoice triage v1" in runs
    assert "70,000 USD" in runs
