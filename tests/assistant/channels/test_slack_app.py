"""Slack end to end: the real bolt app behind `flowdraft serve`'s ASGI app on loopback,
signed requests in Slack's wire formats, and a local Slack Web API that records calls."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from assistant.channels.slack.app import thread_for
from assistant.channels.slack.blocks import APPROVE, EDIT, REJECT
from assistant.db.engine import session_scope
from assistant.db.tables import TicketReply
from assistant.db.users import add_user, link_slack
from assistant.db.versions import recent_threads
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.web.server import create_app
from tests.support.slack import (
    CHANNEL,
    TEAM,
    LiveSlack,
    SlackWire,
    blocks_text,
    buttons,
    card_click,
    cards_for,
    live_slack,
    shortcut_payload,
)

GOAL = "Every vendor invoice over $10,000 needs CFO sign-off; post a summary in #finance"
EMAILS = {"U0CARLA": "carla@northwind.example"}


@pytest.fixture(scope="module")
def slack(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSlack]:
    with live_slack(services, tmp_path_factory.mktemp("slack-home"), emails=EMAILS) as live:
        engine = live.services.engine
        add_user(engine, name="ana", roles=["manager"])
        link_slack(engine, name="ana", slack_user_id="U0ANA")
        add_user(engine, name="ben", roles=[])
        link_slack(engine, name="ben", slack_user_id="U0BEN")
        add_user(engine, name="sam", roles=["support"])
        link_slack(engine, name="sam", slack_user_id="U0SAM")
        # carla is matched through her Slack profile's email, then remembered.
        add_user(engine, name="carla", roles=["cfo"], email="carla@northwind.example")
        yield live


def draft_message(slack: LiveSlack, goal: str = GOAL, user: str = "U0ANA") -> dict[str, Any]:
    """Send `/flowdraft <goal>` and return the posted message once it shows the draft."""
    before = len(slack.fake.posted)
    ack = slack.wire.command(goal, user=user)
    assert ack.status_code == 200 and "Drafting" in ack.json()["text"]
    posted = slack.fake.wait_for(lambda: slack.fake.posted[before:])[0]
    ts = posted["ts"]
    slack.fake.wait_for(lambda: buttons(slack.fake.messages[(CHANNEL, ts)]))
    return slack.fake.message(CHANNEL, ts) | {"ts": ts}


def button_value(message: dict[str, Any], action_id: str) -> str:
    """Return what a click on the message's ``action_id`` button sends back."""
    return next(
        e["value"]
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


def click_payload(
    slack: LiveSlack, action_id: str, ts: str, *, user: str, value: str | None = None
) -> dict[str, Any]:
    """Return a click on a review button of message ``ts`` as it is shown now (or ``value``)."""
    payload = SlackWire.click_payload(action_id, ts, user=user)
    shown = slack.fake.message(CHANNEL, ts)
    payload["actions"][0]["value"] = value or button_value(shown, action_id)
    return payload


def click(slack: LiveSlack, action_id: str, ts: str, *, user: str, value: str | None = None) -> Any:
    """Click a review button of message ``ts`` as it is shown now (or with ``value``)."""
    payload = click_payload(slack, action_id, ts, user=user, value=value)
    return slack.wire.send(slack.wire.interaction_body(payload))


def thread_replies(slack: LiveSlack, ts: str) -> list[dict[str, Any]]:
    return [p for p in slack.fake.posted if p.get("thread_ts") == ts]


def test_help_unknown_subcommand_and_ask(slack: LiveSlack) -> None:
    help_ack = slack.wire.command("help").json()
    assert "/flowdraft ask" in help_ack["text"] and help_ack["blocks"]
    assert "/flowdraft ask" in slack.wire.command("").json()["text"]
    unknown = slack.wire.command("frobnicate").json()
    assert "don't know `frobnicate`" in unknown["text"] and "/flowdraft help" in unknown["text"]

    ack = slack.wire.command("ask Who has to approve a refund over $500?")
    assert ack.status_code == 200 and "Looking up" in ack.json()["text"]
    answer = slack.fake.wait_for(lambda: slack.fake.responses)[-1]
    assert answer["response_type"] == "ephemeral"
    text = blocks_text(answer["blocks"])
    assert "Sources:" in text and ".md" in text and answer["text"]


def test_a_goal_is_drafted_refused_then_approved_with_results_in_the_thread(
    slack: LiveSlack,
) -> None:
    message = draft_message(slack, user="U0BEN")
    ts = message["ts"]
    text = blocks_text(message["blocks"])
    assert "v1" in text and "1. *" in text and "risk" in text and "approver *" in text.lower()
    assert "Sources:" in text and "playbooks/invoice-triage.md" in text
    assert buttons(message) == [APPROVE, EDIT, REJECT]
    thread = thread_for(TEAM, CHANNEL, ts)
    assert thread in recent_threads(slack.services.engine, author="ben", limit=20)

    # Someone without the role is told privately why, and who can approve; buttons stay.
    assert click(slack, APPROVE, ts, user="U0BEN").status_code == 200
    whisper = slack.fake.wait_for(lambda: [e for e in slack.fake.ephemeral if e["user"] == "U0BEN"])
    assert "refused" in whisper[-1]["text"] and "Who can approve: ana" in whisper[-1]["text"]
    # A Slack user linked to nobody is told how to get linked.
    click(slack, APPROVE, ts, user="U0NOBODY")
    stranger = slack.fake.wait_for(
        lambda: [e for e in slack.fake.ephemeral if e["user"] == "U0NOBODY"]
    )
    assert "link-slack NAME U0NOBODY" in stranger[-1]["text"]
    assert buttons(slack.fake.message(CHANNEL, ts)) and not thread_replies(slack, ts)

    # The CFO approves: the version goes live; the thread says where invoices go.
    click(slack, APPROVE, ts, user="U0CARLA")
    said = slack.fake.wait_for(lambda: thread_replies(slack, ts))
    assert "is live as automation au_" in said[0]["text"]
    assert "(approved by carla); send invoices to http" in said[0]["text"]
    after = slack.fake.message(CHANNEL, ts)
    status = blocks_text(after["blocks"])
    assert not buttons(after) and "Approved by carla; live as automation `au_" in status
    # Live is not run: nothing is posted in #finance until an invoice event starts a run.
    assert not [p for p in slack.fake.posted if p["channel"] == "#finance"]


def dropped(caplog: pytest.LogCaptureFixture, *triggers: str) -> list[str]:
    """Return the deliveries of ``triggers`` the server dropped as seen before.

    ``_once`` decides before it answers: by the time a delivery got its 200, it was either
    dropped (logged here, no listener started) or let through to its listener.
    """
    return [
        str(r.args[0])
        for r in caplog.records
        if r.name == "assistant.channels.slack.app"
        and "seen before" in r.msg
        and isinstance(r.args, tuple)
        and r.args[0] in triggers
    ]


def test_double_clicks_and_slack_retries_activate_once(
    slack: LiveSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assistant.channels.slack.app")
    message = draft_message(slack)
    ts = message["ts"]
    clicks = [click_payload(slack, APPROVE, ts, user="U0CARLA") for _ in range(2)]
    first, second = (slack.wire.interaction_body(c) for c in clicks)
    with ThreadPoolExecutor(4) as pool:
        sent = [
            pool.submit(slack.wire.send, first),
            pool.submit(slack.wire.send, second),
            pool.submit(slack.wire.send, first, slack.wire.headers(first, retry=1)),
            pool.submit(slack.wire.send, first, slack.wire.headers(first, retry=2)),
        ]
        assert [f.result().status_code for f in sent] == [200] * 4
    # Both retries of the first click were dropped, so exactly two listeners ran, one per
    # click; each one's last act is awaited below, after which nothing more can be posted.
    triggers = [str(c["trigger_id"]) for c in clicks]
    assert sorted(dropped(caplog, *triggers)) == [triggers[0]] * 2
    slack.fake.wait_for(lambda: thread_replies(slack, ts))
    slack.fake.wait_for(lambda: [e for e in slack.fake.ephemeral if "not waiting" in e["text"]])
    assert len(thread_replies(slack, ts)) == 1
    assert "is live as automation" in thread_replies(slack, ts)[0]["text"]

    # A retried slash command is acknowledged but drafts nothing more.
    trigger = f"{time.time_ns()}.slash-retried"
    body = slack.wire.command_body("Post the weekly ticket summary in #ops", trigger=trigger)
    before = len(slack.fake.posted)
    assert slack.wire.send(body).status_code == 200
    assert slack.wire.send(body, slack.wire.headers(body, retry=1)).status_code == 200
    assert dropped(caplog, trigger) == [trigger]  # the retry started no listener
    slack.fake.wait_for(lambda: [p for p in slack.fake.posted[before:] if "thread_ts" not in p])
    assert len([p for p in slack.fake.posted[before:] if "thread_ts" not in p]) == 1


def test_edit_opens_a_modal_and_saves_new_versions(slack: LiveSlack) -> None:
    message = draft_message(slack)
    ts = message["ts"]
    views_before = len(slack.fake.views)
    click(slack, EDIT, ts, user="U0ANA")
    opened = slack.fake.wait_for(lambda: slack.fake.views[views_before:])[0]
    view = opened["view"]
    assert view["type"] == "modal" and opened["trigger_id"]
    steps = [b for b in view["blocks"] if b["block_id"].startswith("step:")]
    assert len(steps) >= 3 and steps[0]["element"]["initial_value"]
    assert json.loads(view["private_metadata"])["ts"] == ts

    # Removing every step keeps the modal open with an error on the field.
    all_removed = {
        "remove": {
            "steps": {
                "type": "checkboxes",
                "selected_options": [{"value": b["block_id"][5:]} for b in steps],
            }
        }
    }
    refused = slack.wire.submit(view, all_removed)
    assert refused.json()["response_action"] == "errors"

    # Rename the first step and drop the one before last: version 2 replaces the message's draft.
    values: dict[str, Any] = {
        b["block_id"]: {
            "title": {"type": "plain_text_input", "value": b["element"]["initial_value"]}
        }
        for b in steps
    }
    values[steps[0]["block_id"]]["title"]["value"] = "Check the invoice against the PO"
    values["remove"] = {
        "steps": {
            "type": "checkboxes",
            "selected_options": [{"value": steps[-2]["block_id"][5:]}],
        }
    }
    values["instruction"] = {"text": {"type": "plain_text_input", "value": None}}
    assert slack.wire.submit(view, values).status_code == 200
    slack.fake.wait_for(lambda: "v2" in blocks_text(slack.fake.messages[(CHANNEL, ts)]["blocks"]))
    v2 = blocks_text(slack.fake.message(CHANNEL, ts)["blocks"])
    assert "Check the invoice against the PO" in v2 and buttons(slack.fake.message(CHANNEL, ts))

    # A form opened on an older version is not applied over the newer one.
    stale = len(slack.fake.ephemeral)
    slack.wire.submit(view, values)
    changed = slack.fake.wait_for(lambda: slack.fake.ephemeral[stale:])
    assert "changed (now v2)" in changed[0]["text"]

    # A plain-language change typed in a fresh modal makes version 3.
    click(slack, EDIT, ts, user="U0ANA")
    view = slack.fake.wait_for(lambda: slack.fake.views[views_before + 1 :])[0]["view"]
    values = {
        "instruction": {"text": {"type": "plain_text_input", "value": "send it to #ops instead"}}
    }
    slack.wire.submit(view, values)
    slack.fake.wait_for(lambda: "v3" in blocks_text(slack.fake.messages[(CHANNEL, ts)]["blocks"]))
    assert "#ops" in blocks_text(slack.fake.message(CHANNEL, ts)["blocks"])


def test_reject_ends_the_draft_and_unknown_actions_are_answered(slack: LiveSlack) -> None:
    message = draft_message(slack)
    ts = message["ts"]
    approve = button_value(message, APPROVE)
    click(slack, REJECT, ts, user="U0ANA")
    slack.fake.wait_for(
        lambda: "Rejected" in blocks_text(slack.fake.messages[(CHANNEL, ts)]["blocks"])
    )
    assert not buttons(slack.fake.message(CHANNEL, ts)) and not thread_replies(slack, ts)
    # A late approval is told the draft is no longer waiting.
    click(slack, APPROVE, ts, user="U0CARLA", value=approve)
    slack.fake.wait_for(
        lambda: [
            e for e in slack.fake.ephemeral if e["user"] == "U0CARLA" and "not waiting" in e["text"]
        ]
    )
    assert slack.wire.click("something_else", ts, user="U0CARLA").status_code == 200
    slack.fake.wait_for(
        lambda: [e for e in slack.fake.ephemeral if "don't know that action" in e["text"]]
    )


def test_a_reject_by_an_unlinked_user_or_one_without_a_role_is_refused(
    slack: LiveSlack,
) -> None:
    message = draft_message(slack)
    ts = message["ts"]
    click(slack, REJECT, ts, user="U0STRANGER")
    stranger = slack.fake.wait_for(
        lambda: [e for e in slack.fake.ephemeral if e["user"] == "U0STRANGER"]
    )
    text = stranger[-1]["text"]
    assert "may not reject" in text and "not a known user" in text and "Who can decide" in text
    assert "link-slack NAME U0STRANGER" in text
    click(slack, REJECT, ts, user="U0BEN")
    slack.fake.wait_for(
        lambda: [
            e
            for e in slack.fake.ephemeral
            if e["user"] == "U0BEN" and "may not reject" in e["text"]
        ]
    )
    after = slack.fake.message(CHANNEL, ts)
    assert buttons(after) == [APPROVE, EDIT, REJECT] and "Rejected" not in blocks_text(
        after["blocks"]
    )


def test_a_button_of_an_older_version_does_nothing_but_say_which_is_current(
    slack: LiveSlack,
) -> None:
    message = draft_message(slack)
    ts = message["ts"]
    v1_approve = button_value(message, APPROVE)
    views = len(slack.fake.views)
    click(slack, EDIT, ts, user="U0ANA")
    view = slack.fake.wait_for(lambda: slack.fake.views[views:])[0]["view"]
    change = {
        "instruction": {"text": {"type": "plain_text_input", "value": "send it to #ops instead"}}
    }
    slack.wire.submit(view, change)
    slack.fake.wait_for(lambda: "v2" in blocks_text(slack.fake.messages[(CHANNEL, ts)]["blocks"]))
    assert button_value(slack.fake.message(CHANNEL, ts), APPROVE) != v1_approve

    click(slack, APPROVE, ts, user="U0CARLA", value=v1_approve)
    told = slack.fake.wait_for(
        lambda: [e for e in slack.fake.ephemeral if "v2 is current" in e["text"]]
    )
    assert told[-1]["user"] == "U0CARLA"
    assert not thread_replies(slack, ts) and buttons(slack.fake.message(CHANNEL, ts))
    # An Edit button of the older version opens nothing either.
    views = len(slack.fake.views)
    click(slack, EDIT, ts, user="U0ANA", value=v1_approve)
    slack.fake.wait_for(
        lambda: [
            e for e in slack.fake.ephemeral if e["user"] == "U0ANA" and "v2 is current" in e["text"]
        ]
    )
    assert len(slack.fake.views) == views


def test_forged_and_stale_requests_get_401_and_change_nothing(slack: LiveSlack) -> None:
    body = slack.wire.command_body("Post the weekly ticket summary in #ops")
    calls = len(slack.fake.calls)
    forged = slack.wire.headers(body) | {"X-Slack-Signature": "v0=" + "0" * 64}
    assert slack.wire.send(body, forged).status_code == 401
    stale = slack.wire.headers(body, timestamp=int(time.time()) - 600)
    assert slack.wire.send(body, stale).status_code == 401
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    assert slack.wire.send(body, unsigned).status_code == 401
    # The signature is checked over the raw body before bolt reads it, so a 401 has started
    # no listener that could still call Slack.
    assert len(slack.fake.calls) == calls


def test_slack_endpoint_says_when_it_is_not_configured(services: Services, tmp_path: Path) -> None:
    with TestClient(create_app(services, ConnectorSettings())) as client:
        response = client.post("/slack/events", content=b"x")
    assert response.status_code == 503 and "SLACK_SIGNING_SECRET" in response.json()["error"]


def test_draft_a_reply_shortcut_sends_the_agent_a_card_and_replies_in_the_thread(
    slack: LiveSlack,
) -> None:
    question = "Hi, I returned my order last week. How long until the refund reaches my card?"
    body = slack.wire.interaction_body(shortcut_payload(question, "1700000100.000100"))
    assert slack.wire.send(body).status_code == 200
    card = slack.fake.wait_for(lambda: cards_for(slack, "U0SAM"))[-1]
    text = blocks_text(card["blocks"])
    assert "Drafted reply" in text and "Sources:" in text and "faq/" in text
    assert buttons(card) == [
        "flowdraft_reply_accept",
        "flowdraft_reply_edit",
        "flowdraft_reply_reject",
    ]

    # Someone who is not an agent is refused privately.
    slack.wire.send(
        slack.wire.interaction_body(card_click(card, "flowdraft_reply_accept", "U0BEN"))
    )
    slack.fake.wait_for(
        lambda: [e for e in slack.fake.ephemeral if "not a support agent" in e["text"]]
    )

    # The agent edits the draft in the modal; the edited reply goes in the message's thread.
    views = len(slack.fake.views)
    slack.wire.send(slack.wire.interaction_body(card_click(card, "flowdraft_reply_edit", "U0SAM")))
    view = slack.fake.wait_for(lambda: slack.fake.views[views:])[0]["view"]
    draft = view["blocks"][0]["element"]["initial_value"]
    edited = draft + "\n\nP.S. Refunds to cards can show a day later on some banks."
    values = {"reply": {"body": {"type": "plain_text_input", "value": edited}}}
    slack.wire.submit(view, values, user="U0SAM")
    sent = slack.fake.wait_for(
        lambda: [p for p in slack.fake.posted if p.get("thread_ts") == "1700000100.000100"]
    )
    assert sent[0]["channel"] == CHANNEL and sent[0]["text"] == edited
    slack.fake.wait_for(
        lambda: "sent by sam" in blocks_text(slack.fake.messages[("U0SAM", card["ts"])]["blocks"])
    )
    assert not buttons(slack.fake.message("U0SAM", card["ts"]))


def test_queue_and_reject_with_a_reason(slack: LiveSlack) -> None:
    question = "Please delete my account and all my personal data."
    slack.wire.send(slack.wire.interaction_body(shortcut_payload(question, "1700000200.000200")))
    card = slack.fake.wait_for(
        lambda: [
            c for c in cards_for(slack, "U0SAM") if "Routed to a person" in blocks_text(c["blocks"])
        ]
    )[-1]
    assert buttons(card) == ["flowdraft_reply_edit", "flowdraft_reply_reject"]

    before = len(cards_for(slack, "U0SAM"))
    ack = slack.wire.command("queue", user="U0SAM")
    assert "direct message" in ack.json()["text"]
    slack.fake.wait_for(lambda: cards_for(slack, "U0SAM")[before:])

    views = len(slack.fake.views)
    slack.wire.send(
        slack.wire.interaction_body(card_click(card, "flowdraft_reply_reject", "U0SAM"))
    )
    view = slack.fake.wait_for(lambda: slack.fake.views[views:])[0]["view"]
    empty = {"reason": {"text": {"type": "plain_text_input", "value": ""}}}
    assert slack.wire.submit(view, empty, user="U0SAM").json()["response_action"] == "errors"
    reason = {"reason": {"text": {"type": "plain_text_input", "value": "privacy team handles it"}}}
    slack.wire.submit(view, reason, user="U0SAM")
    # Nobody has answered the customer: the ticket stays queued, handed on to the support lead.
    handed_on = slack.fake.wait_for(lambda: escalated_replies(slack))
    assert "privacy team handles it" in (handed_on[0].reason or "")
    assert handed_on[0].status == "waiting" and handed_on[0].priority == "urgent"
    assert not [p for p in slack.fake.posted if p.get("thread_ts") == "1700000200.000200"]
    # The card says so, rather than a failed delivery.
    shown = slack.fake.wait_for(
        lambda: (
            "Handed on to the support lead"
            in blocks_text(slack.fake.messages[("U0SAM", card["ts"])]["blocks"])
        )
    )
    assert shown and "Sending failed" not in blocks_text(
        slack.fake.messages[("U0SAM", card["ts"])]["blocks"]
    )


def escalated_replies(slack: LiveSlack) -> list[TicketReply]:
    """Return the replies an agent handed on to the support lead."""
    with session_scope(slack.services.engine) as session:
        rows = session.exec(select(TicketReply).where(TicketReply.status == "waiting")).all()
        return [r for r in rows if (r.reason or "").startswith("escalated")]


def test_the_committed_manifest_matches_the_app() -> None:
    import yaml

    from assistant.channels.slack.app import COMMAND
    from assistant.channels.slack.blocks import DRAFT_REPLY_SHORTCUT
    from assistant.web.server import SLACK_PATH

    path = Path(__file__).resolve().parents[3] / "assistant/channels/slack/manifest.yaml"
    manifest = yaml.safe_load(path.read_text())
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == COMMAND and command["url"].endswith(SLACK_PATH)
    assert manifest["settings"]["interactivity"]["request_url"].endswith(SLACK_PATH)
    shortcut = manifest["features"]["shortcuts"][0]
    assert shortcut["type"] == "message" and shortcut["callback_id"] == DRAFT_REPLY_SHORTCUT
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "users:read.email"} <= scopes
