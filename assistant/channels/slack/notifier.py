"""Put runs that wait for people to them in Slack, remind them, and show the outcomes.

The notifier watches the inbox in the app database, not the runs themselves: whichever
engine, worker or server replica wrote an item, every server with Slack configured sees
it, and the ``notices`` table makes each message go out once. Each sweep:

- asks every audience of an undecided run item (``asks.audiences``) that was not asked
  yet: a direct message, or a post in the role's channel, with Approve and Reject; a role
  the run was escalated to, or the next role of a sign-off, is asked the same way;
- once the reminder time of the run's deadline has passed, reminds each undecided
  message's audience in that message's thread;
- replaces the buttons with the outcome once the item is decided (from Slack, the web,
  the CLI or the API), or once the role a message asked for has signed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from assistant.channels.slack import notices
from assistant.channels.slack.asks import RUN_KINDS, Ask, Audience, audiences, load_ask
from assistant.channels.slack.runs import (
    ask_blocks,
    fallback,
    outcome_status,
    reminder_text,
)
from assistant.db.tables import SlackNotice, utcnow
from assistant.db.users import Directory, get_user
from assistant.policy.rules import Policy
from assistant.runtime import inbox, store
from assistant.services import Services
from assistant.settings import ConnectorSettings

log = logging.getLogger(__name__)

POLL = 1.0
"""Seconds between two looks at the inbox."""


class RunNotifier:
    """Ask, remind and answer the people runs wait for, over ``client``."""

    def __init__(
        self,
        db: Engine,
        client: AsyncWebClient,
        *,
        directory: Directory,
        policy: Policy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.client = client
        self.directory = directory
        self.policy = policy
        self.clock = clock

    async def keep_notifying(self, interval: float = POLL) -> None:
        """Sweep the inbox every ``interval`` seconds until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception:  # a bad sweep must not stop the next ones
                log.exception("Slack notices of waiting runs failed; trying again")
            await asyncio.sleep(interval)

    async def sweep(self) -> None:
        """Ask, remind and close what the inbox calls for now."""
        now = self.clock()
        # Reading the inbox is the bulk of a sweep: off the event loop that serves requests.
        calls = await asyncio.to_thread(self.due, now)
        try:
            for call in calls:
                await call
        finally:
            for call in calls:
                call.close()  # those a failure left unstarted are dropped, not left pending

    def due(self, now: datetime) -> list[Coroutine[Any, Any, None]]:
        """Return the Slack calls the inbox calls for at ``now``, in order (not started)."""
        calls: list[Coroutine[Any, Any, None]] = []
        undecided: set[str] = set()
        for held in inbox.open_items(self.db):
            if held.item.kind not in RUN_KINDS:
                continue
            undecided.add(held.item.id)
            ask = load_ask(self.db, held, self.policy)
            wanted = audiences(ask, now, directory=self.directory, policy=self.policy)
            sent = notices.of_item(self.db, item_id=ask.item.id)
            for audience in wanted:
                if not any(n.audience == audience.key and n.ts for n in sent):
                    calls.append(self.ask(ask, audience, now))
            asked = {audience.key for audience in wanted}
            for notice in sent:
                if notice.ts is None or notice.closed_at is not None:
                    continue
                if notice.audience not in asked:
                    calls.append(self.close(notice, ask, signed_status(ask, notice.role), now))
                elif reminder_due(notice, ask, now):
                    calls.append(self.remind(notice, ask, now))
        for notice in notices.open_notices(self.db):
            if notice.item_id not in undecided:
                decided = inbox.get_item(self.db, item_id=notice.item_id)
                if decided is not None:
                    ask = load_ask(self.db, decided, self.policy)
                    calls.append(self.close(notice, ask, decided_status(ask), now))
        return calls

    async def ask(self, ask: Ask, audience: Audience, now: datetime) -> None:
        """Post ``ask`` to ``audience`` unless it was (or is being) posted there.

        A message Slack refused keeps its claim: it is tried again once the claim is stale
        (``notices.STALE``), not at every sweep.
        """
        slack_id = self.slack_id(audience)
        if slack_id is None and audience.channel is None:
            return  # not linked to Slack: the web inbox and the CLI still show it
        if not notices.claim_post(
            self.db, item_id=ask.item.id, audience=audience.key, role=audience.role, now=now
        ):
            return
        where = audience.channel or await self.direct_channel(slack_id or "")
        if where is None:
            return
        ups = ask.escalated_to(now)
        try:
            sent = await self.client.chat_postMessage(
                channel=where,
                text=fallback(ask, self.policy),
                blocks=ask_blocks(
                    ask, self.policy, escalated_to=ups if audience.role in ups else []
                ),
            )
        except SlackApiError as exc:
            log.warning("could not ask %s in Slack: %s", audience.key, exc.response.get("error"))
            return
        channel = str(sent.get("channel") or where)
        notices.posted(
            self.db, item_id=ask.item.id, audience=audience.key, channel=channel, ts=str(sent["ts"])
        )

    def slack_id(self, audience: Audience) -> str | None:
        """Return the Slack user id of a person audience, if they are linked to Slack."""
        user = get_user(self.db, name=audience.user) if audience.user else None
        return user.slack_user_id if user is not None and user.slack_user_id else None

    async def direct_channel(self, slack_id: str) -> str | None:
        """Return the direct message channel with ``slack_id`` (None when Slack refuses)."""
        try:
            opened = await self.client.conversations_open(users=slack_id)
        except SlackApiError as exc:
            log.warning("could not open a DM with %s: %s", slack_id, exc.response.get("error"))
            return None
        return str((opened.get("channel") or {}).get("id") or slack_id)

    async def remind(self, notice: SlackNotice, ask: Ask, now: datetime) -> None:
        """Remind the audience of ``notice`` in its thread, once."""
        if not notices.claim_reminder(self.db, key=notice.id, now=now):
            return
        try:
            await self.client.chat_postMessage(
                channel=notice.channel, thread_ts=notice.ts, text=reminder_text(ask)
            )
        except SlackApiError as exc:
            notices.unclaim(self.db, key=notice.id, reminder=True)
            log.warning("could not remind %s: %s", notice.audience, exc.response.get("error"))

    async def close(self, notice: SlackNotice, ask: Ask, status: str, now: datetime) -> None:
        """Replace the buttons of ``notice`` with ``status``, once."""
        if not notices.claim_close(self.db, key=notice.id, now=now):
            return
        try:
            await show_outcome(
                self.client, self.policy, ask, notice.channel, notice.ts or "", status
            )
        except SlackApiError as exc:
            notices.unclaim(self.db, key=notice.id, reminder=False)
            log.warning("could not update %s: %s", notice.audience, exc.response.get("error"))


async def show_outcome(
    client: AsyncWebClient, policy: Policy, ask: Ask, channel: str, ts: str, status: str
) -> None:
    """Redraw the ask in message ``ts`` with ``status`` in place of its buttons."""
    await client.chat_update(
        channel=channel,
        ts=ts,
        text=f"{ask.title}: {status}"[:3000],
        blocks=ask_blocks(ask, policy, status=status),
    )


def reminder_due(notice: SlackNotice, ask: Ask, now: datetime) -> bool:
    """Tell whether ``notice`` is due its reminder: the reminder time has passed, and it
    was posted before then (people asked later, the next tier, are not reminded at once)."""
    if ask.remind_at is None or now < ask.remind_at or notice.reminded_at is not None:
        return False
    posted_at = store.aware(notice.claimed_at)
    return posted_at is not None and posted_at < ask.remind_at


def decided_status(ask: Ask) -> str:
    """Return the outcome line of a decided item, whoever decided it and wherever."""
    step = next(
        (s for s in (ask.run.steps if ask.run else []) if s.step_id == ask.item.step_id), None
    )
    user = ask.decided_by or "someone"
    # Closed by Flowdraft itself (an expired request, a cancelled run): say what happened.
    if ask.decision in ("accepted", "rejected") and user != "flowdraft":
        accept = ask.decision == "accepted"
        detail = step.detail if step else ""
        reason = detail.split(": ", 1)[1] if not accept and ": " in detail else None
        return outcome_status(user=user, accept=accept, reason=reason, task=ask.is_task, still="")
    why = (step.detail if step else "") or ask.decision or "closed"
    return f":heavy_minus_sign: No longer waiting: {why}"


def signed_status(ask: Ask, role: str) -> str:
    """Return the line of a message whose role has signed while the item waits for others."""
    step = next(
        (s for s in (ask.run.steps if ask.run else []) if s.step_id == ask.item.step_id), None
    )
    signed = [tuple(pair) for pair in (step.output.get("signed") or [] if step else [])]
    by = next((str(user) for user, held in signed if held == role), None)
    still = " and ".join(ask.needs) or "another person"
    if by is None:
        return f":arrow_right: Now with {still}"
    return outcome_status(user=by, accept=True, reason=None, task=ask.is_task, still=still)


def run_notifier(services: Services, connectors: ConnectorSettings) -> RunNotifier | None:
    """Return the notifier over the server's inbox, or None when Slack is not set up.

    Slack is set up when the bot can post (``SLACK_BOT_TOKEN``) and clicks reach Flowdraft
    (``SLACK_SIGNING_SECRET`` over HTTP, or ``SLACK_APP_TOKEN`` in Socket Mode): buttons
    nobody can click are not sent.
    """
    if not connectors.slack_bot_token:
        return None
    if not (connectors.slack_signing_secret or connectors.slack_app_token):
        return None
    client = AsyncWebClient(
        token=connectors.slack_bot_token, base_url=services.settings.slack_api_url
    )
    return RunNotifier(
        services.engine, client, directory=services.directory, policy=services.policy.policy
    )
