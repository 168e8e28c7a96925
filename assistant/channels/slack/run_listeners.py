"""Slack listeners for runs: Approve and Reject on a waiting run, `/flowdraft inbox` and `runs`.

A click decides through ``AutomationDesk.decide`` as the Flowdraft user linked to the
clicker, so Slack follows the same rules as the web, the CLI and the API: a refusal (wrong
role, the submitter, already decided) is told to the clicker alone, naming who can decide,
and the buttons stay. Slack's retries are dropped before they get here (``SlackChannel``),
and a second click on a decided item is refused by the desk: an item is decided once.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, get_args

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from assistant.channels.slack import notices
from assistant.channels.slack.asks import Ask, load_ask
from assistant.channels.slack.blocks import escape, text
from assistant.channels.slack.notifier import show_outcome
from assistant.channels.slack.runs import (
    RUN_APPROVE,
    RUN_REJECT,
    RUN_REJECT_VIEW,
    inbox_blocks,
    outcome_status,
    reject_modal,
    run_line,
)
from assistant.db.tables import utcnow
from assistant.policy.rules import Policy
from assistant.runtime import inbox, store
from assistant.runtime.deciders import may_decide, who_can_decide
from assistant.runtime.models import RunStatus
from assistant.runtime.service import AutomationDesk, NoRunEngine, desk_for

if TYPE_CHECKING:
    from assistant.channels.slack.app import MessageRef, Person, SlackChannel

INBOX_SHOWN = 7
"""Items one `/flowdraft inbox` answer shows (Slack allows 50 blocks a message)."""
RUNS_SHOWN = 10
STATUSES: tuple[str, ...] = get_args(RunStatus)


class RunApprovals:
    """The run-approval buttons, the reject modal and the inbox and runs listings."""

    def __init__(self, channel: SlackChannel) -> None:
        self.channel = channel
        self.services = channel.services

    def register(self, app: AsyncApp) -> None:
        """Listen for the run buttons and the reject modal on ``app``."""
        app.action(RUN_APPROVE)(ack=self._ack, lazy=[self._approve])
        app.action(RUN_REJECT)(self._open_reject)
        app.view_submission(RUN_REJECT_VIEW)(ack=self._ack_reason, lazy=[self._reject])

    @staticmethod
    async def _ack(ack: Any) -> None:
        await ack()

    def desk(self) -> AutomationDesk:
        """Return the desk over the engine this process runs, else the one it can reach."""
        return desk_for(self.services, self.services.runs)

    def ask(self, item_id: str) -> Ask | None:
        """Return the ask of inbox item ``item_id``, decided or not."""
        held = inbox.get_item(self.services.engine, item_id=item_id)
        return load_ask(self.services.engine, held, self.policy) if held else None

    @property
    def policy(self) -> Policy:
        """Return the policy decisions and listings follow."""
        return self.services.policy.policy

    # -- buttons -----------------------------------------------------------------------

    async def _approve(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        from assistant.channels.slack.app import MessageRef, clicked_value

        where = MessageRef.of_click(body)
        reply = ephemeral_reply(body)
        await self.decide(body, client, where, clicked_value(body), accept=True, reply=reply)

    async def _open_reject(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Open the reason modal (trigger ids expire in 3 s: this is not lazy)."""
        from assistant.channels.slack.app import MessageRef, clicked_value

        await ack()
        where = MessageRef.of_click(body)
        refusal = await self.refusal(body, client, clicked_value(body))
        if refusal is not None:
            person = await self.channel.person(client, str(body["user"]["id"]))
            await self.channel.whisper(client, where, person, refusal)
            return
        metadata = {
            "team": where.team,
            "channel": where.channel,
            "ts": where.ts,
            "reply": ephemeral_reply(body),
        }
        await client.views_open(
            trigger_id=body["trigger_id"], view=reject_modal(clicked_value(body), metadata)
        )

    async def refusal(
        self, body: dict[str, Any], client: AsyncWebClient, item_id: str
    ) -> str | None:
        """Return why the clicker may not decide ``item_id`` (before asking them for a reason)."""
        person = await self.channel.person(client, str(body["user"]["id"]))
        held = inbox.get_item(self.services.engine, item_id=item_id)
        if held is None:
            return f":no_entry: no inbox item {escape(item_id)}"
        if held.decided_by is not None:
            return f":no_entry: already decided by {escape(held.decided_by)} ({held.decision})"
        allowed = may_decide(
            user=person.name,
            role=held.item.approver_role,
            requesters=held.requesters,
            directory=self.services.directory,
            policy=self.policy,
        )
        hint = "" if person.linked else "\n" + self.channel.link_hint(person)
        return None if allowed.ok else f":no_entry: {escape(allowed.message)}{hint}"

    @staticmethod
    async def _ack_reason(ack: Any, view: dict[str, Any]) -> None:
        """Keep the modal open with an error when no reason is given."""
        reason = str(view["state"]["values"].get("reason", {}).get("text", {}).get("value") or "")
        if not reason.strip():
            await ack(response_action="errors", errors={"reason": "Say why it is rejected."})
        else:
            await ack()

    async def _reject(
        self, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        from assistant.channels.slack.app import ref_of

        meta = json.loads(view.get("private_metadata") or "{}")
        reason = str(view["state"]["values"]["reason"]["text"].get("value") or "").strip()
        if not reason:
            return  # the modal stayed open with an error (``_ack_reason``); nothing is decided
        await self.decide(
            body,
            client,
            ref_of(meta),
            str(meta.get("item", "")),
            accept=False,
            reason=reason,
            reply=str(meta.get("reply") or ""),
        )

    async def decide(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        where: MessageRef,
        item_id: str,
        *,
        accept: bool,
        reason: str | None = None,
        reply: str = "",
    ) -> None:
        """Decide ``item_id`` as the clicker and show the outcome where they clicked.

        ``reply`` is the response URL of an ephemeral list the click came from (such a
        message cannot be updated, only replaced through it).
        """
        person = await self.channel.person(client, str(body["user"]["id"]))
        hint = "" if person.linked else "\n" + self.channel.link_hint(person)
        try:
            outcome = await self.desk().decide(
                item_id, user=person.name, accept=accept, reason=reason
            )
        except NoRunEngine as exc:
            await self.channel.whisper(client, where, person, f":warning: {escape(str(exc))}")
            return
        if not outcome.ok:
            message = f":no_entry: {escape(outcome.message)}{hint}"
            await self.channel.whisper(client, where, person, message)
            return
        ask = self.ask(item_id)
        still = (
            outcome.message.split("it still needs ", 1)[1]
            if "still needs" in outcome.message
            else ""
        )
        status = outcome_status(
            user=person.name,
            accept=accept,
            reason=reason,
            task=bool(ask and ask.is_task),
            still=still,
        )
        if reply:
            await self.send_inbox(reply, person, status=status)
        elif ask is not None:
            await show_outcome(client, self.policy, ask, where.channel, where.ts, status)
            notice = notices.at(self.services.engine, channel=where.channel, ts=where.ts)
            if notice is not None:
                notices.claim_close(self.services.engine, key=notice.id, now=utcnow())

    # -- /flowdraft inbox and runs -------------------------------------------------------

    async def list_inbox(
        self, command: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        """Answer `/flowdraft inbox`: what the caller may decide, each with its buttons."""
        person = await self.channel.person(client, str(command["user_id"]))
        if not person.linked:
            await respond(text=self.channel.link_hint(person), response_type="ephemeral")
            return
        blocks = inbox_blocks(self.asks_for(person.name), self.policy, shown=INBOX_SHOWN)
        await respond(text="What waits for your decision", blocks=blocks, response_type="ephemeral")

    def asks_for(self, user: str) -> list[Ask]:
        """Return the run items ``user`` may decide, oldest first."""
        db = self.services.engine
        items = inbox.items_for(
            db, user=user, directory=self.services.directory, policy=self.policy
        )
        found = [self.ask(item.id) for item in items if item.kind != "workflow_review"]
        return [ask for ask in found if ask is not None]

    async def send_inbox(self, response_url: str, person: Person, *, status: str) -> None:
        """Replace an ephemeral inbox list with ``status`` and what still waits."""
        blocks = inbox_blocks(
            self.asks_for(person.name), self.policy, shown=INBOX_SHOWN, status=status
        )
        await AsyncWebhookClient(response_url).send(
            text=status, blocks=blocks, replace_original=True, response_type="ephemeral"
        )

    async def list_runs(
        self, command: dict[str, Any], filter_: str, client: AsyncWebClient, respond: Any
    ) -> None:
        """Answer `/flowdraft runs [STATUS|AUTOMATION_ID]`: recent runs and who they wait on."""
        person = await self.channel.person(client, str(command["user_id"]))
        if not person.linked:
            await respond(text=self.channel.link_hint(person), response_type="ephemeral")
            return
        db = self.services.engine
        status = filter_ if filter_ in STATUSES else None
        automation_id = filter_ if filter_ and status is None else None
        runs = store.list_runs(
            db,
            status=status,  # type: ignore[arg-type]
            automation_id=automation_id,
            limit=RUNS_SHOWN,
        )
        if not runs:
            said = f" ({filter_})" if filter_ else ""
            await respond(text=f"No runs yet{said}.", response_type="ephemeral")
            return
        titles: dict[str, str] = {}
        lines = []
        for run in runs:
            if run.automation_id not in titles:
                automation = store.get_automation(db, automation_id=run.automation_id)
                titles[run.automation_id] = automation.title if automation else run.automation_id
            lines.append(
                run_line(run, titles[run.automation_id], self.waiting_on(run.id), self.policy)
            )
        heading = f"*Recent runs*{f' ({escape(filter_)})' if filter_ else ''}"
        blocks = [text(heading), *(text(line) for line in lines)]
        await respond(text="Recent runs", blocks=blocks, response_type="ephemeral")

    def waiting_on(self, run_id: str) -> str:
        """Return whom the run waits on: each role still needed and who can decide for it."""
        parts = []
        for held in inbox.open_items(self.services.engine, run_id=run_id):
            ask = load_ask(self.services.engine, held, self.policy)
            roles: list[str | None] = list(ask.needs)
            for role in roles or [None]:
                names = who_can_decide(
                    role=role,
                    requesters=held.requesters,
                    directory=self.services.directory,
                    policy=self.policy,
                )
                people = f" ({', '.join(names)})" if names else ""
                parts.append(f"{role or 'any user'}{people}")
        return "; ".join(parts)


def ephemeral_reply(body: dict[str, Any]) -> str:
    """Return the response URL of a click on an ephemeral message ("" for a real message)."""
    container = body.get("container") or {}
    return str(body.get("response_url") or "") if container.get("is_ephemeral") else ""
