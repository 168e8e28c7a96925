"""The desk in Slack: a reply whose delivery failed gets a Retry button on the agent's card."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.db.users import add_user, link_slack
from assistant.services import Services
from tests.support.slack import (
    CHANNEL,
    LiveSlack,
    blocks_text,
    buttons,
    card_click,
    cards_for,
    live_slack,
    shortcut_payload,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def slack(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSlack]:
    with live_slack(services, tmp_path_factory.mktemp("slack-desk")) as live:
        add_user(live.services.engine, name="sam", roles=["support"])
        link_slack(live.services.engine, name="sam", slack_user_id="U0SAM")
        yield live


def test_a_failed_reply_is_retried_from_the_card(slack: LiveSlack) -> None:
    question = "Hi, I returned my order last week. How long until the refund reaches my card?"
    slack.wire.send(slack.wire.interaction_body(shortcut_payload(question, "1700000300.000300")))
    card = slack.fake.wait_for(lambda: cards_for(slack, "U0SAM"))[-1]
    in_thread = lambda: [  # noqa: E731
        p for p in slack.fake.posted if p.get("thread_ts") == "1700000300.000300"
    ]

    slack.fake.channels.discard(CHANNEL)  # the channel is gone: the reply cannot be posted
    slack.wire.send(
        slack.wire.interaction_body(card_click(card, "flowdraft_reply_accept", "U0SAM"))
    )
    # wait_for holds the fake's lock while it asks, so the lambdas read ``messages`` directly.
    shown = ("U0SAM", card["ts"])
    failed = slack.fake.wait_for(
        lambda: (
            "Sending failed" in blocks_text(slack.fake.messages[shown]["blocks"])
            and dict(slack.fake.messages[shown])
        )
    )
    assert buttons(failed) == ["flowdraft_reply_retry"] and not in_thread()

    slack.fake.channels.add(CHANNEL)
    slack.wire.send(
        slack.wire.interaction_body(
            card_click({**card, **failed}, "flowdraft_reply_retry", "U0SAM")
        )
    )
    sent = slack.fake.wait_for(in_thread)
    assert len(sent) == 1 and sent[0]["channel"] == CHANNEL
    slack.fake.wait_for(lambda: "sent by sam" in blocks_text(slack.fake.messages[shown]["blocks"]))
    assert not buttons(slack.fake.message("U0SAM", card["ts"]))
