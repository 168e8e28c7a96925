"""The Slack channel: a slack-bolt (async) app for `/flowdraft`, its buttons and its modal.

It only translates: Slack payloads become graph input and decisions, graph events become
Block Kit. What makes it safe to run on many replicas:

- A draft's graph thread is derived from the Slack message that shows it
  (``slack-<team>-<channel>-<ts>``), so whichever replica receives a click resumes it.
- Every delivery (slash command, click, modal submission) is claimed once in the app
  database by its ``trigger_id`` before anything runs, so Slack's retries
  (``X-Slack-Retry-Num``) are acknowledged and dropped, on any replica.
- A click resumes the review through the runner, which lets only the first answer to a
  review through, and activating a version that is already live returns its automation:
  a double click never makes two automations.

Slash commands are acknowledged at once with a short answer; the drafting runs in a lazy
listener, within Slack's 3-second limit however slow the brain is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from assistant.channels.slack.blocks import (
    APPROVE,
    DRAFT_REPLY_SHORTCUT,
    EDIT,
    EDIT_VIEW,
    HELP,
    REJECT,
    REPLY_ACCEPT,
    REPLY_EDIT,
    REPLY_EDIT_VIEW,
    REPLY_REJECT,
    REPLY_REJECT_VIEW,
    REPLY_RETRY,
    STEP_BLOCK_PREFIX,
    answer_blocks,
    draft_blocks,
    edit_modal,
    escape,
    failed_status,
    read_edit_modal,
    reply_blocks,
    reply_edit_modal,
    reply_reject_modal,
    text,
)
from assistant.channels.slack.run_listeners import STATUSES, RunApprovals
from assistant.db.tickets import TicketError, store_ticket
from assistant.db.users import user_for_slack
from assistant.review import edited_steps, review_hash
from assistant.schemas import Customer, ReviewRequest, ReviewResponse, Ticket, WorkflowDraft
from assistant.services import Services
from assistant.support import answer_question
from assistant.support.desk import DeskError, QueueItem
from assistant.support.worker import worker_for
from assistant.web.runtime import WebRuntime
from connectors.tickets import ticket_label
from graphs.runner import MAX_TEXT_CHARS, InputError, check_text

log = logging.getLogger(__name__)

COMMAND = "/flowdraft"
SUBCOMMANDS = ("help", "ask", "queue", "inbox", "runs")
QUEUE_SHOWN = 5
Event = dict[str, Any]


def thread_for(team: str, channel: str, ts: str) -> str:
    """Return the graph thread of the draft shown in Slack message ``ts`` of ``channel``."""
    return f"slack-{team}-{channel}-{ts}"


@dataclass(frozen=True)
class MessageRef:
    """Where a draft is shown in Slack, and so which thread it is."""

    team: str
    channel: str
    ts: str

    @property
    def thread(self) -> str:
        """Return the graph thread this message shows."""
        return thread_for(self.team, self.channel, self.ts)

    @classmethod
    def of_click(cls, body: dict[str, Any]) -> MessageRef:
        """Return the message a ``block_actions`` payload's button sits on."""
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
        ts = container.get("message_ts") or (body.get("message") or {}).get("ts", "")
        return cls(team=team_of(body), channel=str(channel), ts=str(ts))


def team_of(body: dict[str, Any]) -> str:
    """Return the workspace id of any Slack payload."""
    team = body.get("team")
    if isinstance(team, dict):
        return str(team.get("id", ""))
    return str(body.get("team_id") or team or "")


def parse_command(text_: str) -> tuple[str, str]:
    """Split a `/flowdraft` text into (subcommand, rest); a goal is ``("draft", goal)``.

    One word that is not a subcommand is taken for a mistyped subcommand (``"unknown"``):
    no real goal is one word long.
    """
    # Slack escapes &, < and > in command text; the assistant reads what the user typed.
    text_ = text_.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    words = text_.strip().split(maxsplit=1)
    if not words or words[0].lower() == "help":
        return "help", ""
    first, rest = words[0].lower(), words[1] if len(words) > 1 else ""
    if first in SUBCOMMANDS and not (rest and not takes_filter(first, rest.strip())):
        return first, rest.strip()
    if not rest:
        return "unknown", words[0]
    return "draft", text_.strip()


def takes_filter(sub: str, rest: str) -> bool:
    """Tell whether ``rest`` belongs to ``sub``; `inbox` takes none, `runs` a status or an
    automation id ("/flowdraft runs failed"), so "inbox every invoice ..." is a goal."""
    if sub == "inbox":
        return False
    if sub == "runs":
        return rest.lower() in STATUSES or re.fullmatch(r"au_\w+", rest) is not None
    return True


@dataclass
class Outcome:
    """What one run of the graph produced, gathered from its events."""

    draft: dict[str, Any] | None = None
    review: dict[str, Any] | None = None
    automation: dict[str, Any] | None = None
    """The automation an approval made live."""
    messages: list[Event] = field(default_factory=list)

    @classmethod
    async def of(cls, events: AsyncIterator[Event]) -> Outcome:
        """Run the stream to its end and keep what matters to Slack."""
        outcome = cls()
        async for event in events:
            kind = event["type"]
            if kind == "draft":
                outcome.draft = event["workflow"]
            elif kind == "review":
                outcome.review = event["request"]
            elif kind == "activated":
                outcome.automation = event["automation"]
            elif kind == "message":
                outcome.messages.append(event)
        return outcome

    @property
    def said(self) -> str:
        """Return the messages' text."""
        return "\n".join(m["text"] for m in self.messages)


@dataclass(frozen=True)
class Person:
    """The Flowdraft user behind a Slack user (``linked`` False when none matched)."""

    slack_id: str
    name: str
    linked: bool


class SlackChannel:
    """The bolt app and everything it does; ``current`` returns the process's runtime
    (its chat runner and support desk), which exists once the server has started."""

    def __init__(
        self,
        services: Services,
        current: Callable[[], WebRuntime],
        *,
        bot_token: str,
        signing_secret: str = "",
        api_url: str = "https://slack.com/api/",
    ) -> None:
        self.services = services
        self.current = current
        client = AsyncWebClient(token=bot_token, base_url=api_url)
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            # Socket Mode requests carry no signature; over HTTP every request is checked.
            request_verification_enabled=bool(signing_secret),
            name="flowdraft",
        )
        self.app.middleware(self._once)
        self.app.command(COMMAND)(ack=self._ack_command, lazy=[self._run_command])
        self.app.action(APPROVE)(ack=self._ack, lazy=[self._approve])
        self.app.action(REJECT)(ack=self._ack, lazy=[self._reject])
        self.app.action(EDIT)(self._open_editor)
        self.app.view_submission(EDIT_VIEW)(ack=self._ack_edit, lazy=[self._save_edit])
        # Runs waiting for a person: Approve / Reject on their messages, the reason modal.
        self.runs = RunApprovals(self)
        self.runs.register(self.app)
        # The support desk: draft a reply to a message, and the agent's decisions on it.
        self.app.shortcut(DRAFT_REPLY_SHORTCUT)(ack=self._ack, lazy=[self._reply_to_message])
        self.app.action(REPLY_ACCEPT)(ack=self._ack, lazy=[self._accept_reply])
        self.app.action(REPLY_RETRY)(ack=self._ack, lazy=[self._retry_reply])
        self.app.action(REPLY_EDIT)(self._open_reply_editor)
        self.app.action(REPLY_REJECT)(self._open_reject)
        self.app.view_submission(REPLY_EDIT_VIEW)(
            ack=self._ack_reply_view, lazy=[self._send_edited_reply]
        )
        self.app.view_submission(REPLY_REJECT_VIEW)(
            ack=self._ack_reply_view, lazy=[self._reject_reply]
        )
        # Anything else is answered politely rather than with Slack's "app did not respond".
        self.app.action(re.compile(".*"))(self._unknown_action)
        self.app.view(re.compile(".*"))(self._ack)
        self.app.shortcut(re.compile(".*"))(self._unknown_action)

    # -- deliveries ----------------------------------------------------------------

    async def _once(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Let each delivery through once; a retry of one already received is acked, no more."""
        key = body.get("trigger_id") or body.get("event_id")
        if key:
            # A fresh claimant per delivery: the journal lets the *same* claimant retry.
            # A database write: off the event loop, so other acks are not held up by it.
            earlier = await asyncio.to_thread(
                self.services.journal.claim,
                f"slack-delivery:{key}",
                thread="slack",
                user=f"delivery-{uuid.uuid4().hex[:12]}",
                decision="delivery",
            )
            if earlier is not None:
                log.info("Slack delivery %s seen before: acknowledged, not run again", key)
                return BoltResponse(status=200, body="")
        await next()
        return None

    @staticmethod
    async def _ack(ack: Any) -> None:
        await ack()

    # -- /flowdraft ----------------------------------------------------------------

    @staticmethod
    async def _ack_command(ack: Any, command: dict[str, Any]) -> None:
        """Answer within Slack's 3 seconds; the work happens in ``_run_command``."""
        sub, rest = parse_command(command.get("text", ""))
        if sub == "help":
            answer = HELP
        elif sub == "unknown":
            answer = f"I don't know `{escape(rest)}`, sorry.\n\n{HELP}"
        elif sub == "ask" and not rest:
            answer = "Ask a question after `ask`, e.g. `/flowdraft ask who approves refunds?`"
        elif sub == "ask":
            answer = f":mag: Looking up: {escape(rest)}"
        elif sub == "queue":
            answer = (
                ":inbox_tray: Sending you the tickets that wait for an agent, in a direct message."
            )
        elif sub == "inbox":
            answer = ":inbox_tray: Looking up what waits for your decision…"
        elif sub == "runs":
            answer = ":mag: Looking up recent runs…"
        else:
            answer = f":hourglass_flowing_sand: Drafting a workflow for: {escape(rest)}"
        await ack(text=answer, blocks=[text(answer)], response_type="ephemeral")

    async def _run_command(
        self, command: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        sub, rest = parse_command(command.get("text", ""))
        if sub == "ask" and rest:
            await self._answer(rest, respond)
        elif sub == "queue":
            await self._send_queue(command, client, respond)
        elif sub == "inbox":
            await self.runs.list_inbox(command, client, respond)
        elif sub == "runs":
            await self.runs.list_runs(command, rest.lower(), client, respond)
        elif sub == "draft":
            await self._draft(command, rest, client, respond)

    async def _answer(self, question: str, respond: Any) -> None:
        try:
            answer = await answer_question(self.services, check_text(question))
        except InputError as exc:
            await respond(text=f":warning: {escape(str(exc))}", response_type="ephemeral")
            return
        sources = [s.model_dump(mode="json") for s in answer.sources]
        await respond(
            text=escape(answer.text),
            blocks=answer_blocks(question, answer.text, sources),
            response_type="ephemeral",
        )

    async def _draft(
        self, command: dict[str, Any], goal: str, client: AsyncWebClient, respond: Any
    ) -> None:
        """Post the request in the channel, draft on that message's thread, show the draft."""
        person = await self.person(client, str(command["user_id"]))
        channel = str(command["channel_id"])
        try:
            posted = await client.chat_postMessage(
                channel=channel,
                text=f"<@{person.slack_id}> asked for a workflow: {escape(goal)}",
                blocks=[
                    text(f"<@{person.slack_id}> asked: _{escape(goal)}_\n:hourglass: drafting…")
                ],
            )
        except SlackApiError as exc:
            await respond(
                text=(
                    f":warning: I can't post in this conversation ({exc.response.get('error')}). "
                    "Invite me with `/invite @Flowdraft`, or use a channel I'm in."
                ),
                response_type="ephemeral",
            )
            return
        ref = MessageRef(team=team_of(command), channel=channel, ts=str(posted["ts"]))
        try:
            # Drafted on the turn worker's thread: acks on this loop do not wait behind it.
            outcome = await worker_for(self.services).call(
                lambda runner: Outcome.of(runner.send_text(ref.thread, goal, person.name))
            )
        except InputError as exc:
            await self._update(client, ref, [text(f":warning: {escape(str(exc))}")], str(exc))
            return
        if outcome.draft is not None:
            await self.show(client, ref)
            return
        # A question, a clarifying question or small talk: say it on the message.
        said = outcome.said or "I could not draft a workflow from that."
        sources = outcome.messages[-1].get("sources") if outcome.messages else None
        blocks = answer_blocks(goal, said, sources or []) if sources else [text(escape(said))]
        await self._update(client, ref, blocks, said)

    # -- review buttons --------------------------------------------------------------

    async def _approve(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        ref = MessageRef.of_click(body)
        await self.decide(body, client, ref, "accept", shown=clicked_value(body))

    async def _reject(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        ref = MessageRef.of_click(body)
        await self.decide(body, client, ref, "ignore", shown=clicked_value(body))

    async def decide(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        ref: MessageRef,
        kind: str,
        args: Any = None,
        *,
        shown: str,
    ) -> str | None:
        """Resume the message's thread with a decision on the version ``shown`` (its content
        hash) and show what came of it; return the hash of the new version it made, if any.

        Whether the person may decide is the graph's call; a refusal is told to them alone.
        """
        person = await self.person(client, str(body["user"]["id"]))
        decision = ReviewResponse.model_validate(
            {"type": kind, "args": args, "user": person.name, "content_hash": shown[:128]}
        )
        runner = self.current().runner
        hint = "" if person.linked else "\n" + self.link_hint(person)
        try:
            outcome = await Outcome.of(runner.send_decision(ref.thread, decision))
        except InputError as exc:
            await self.whisper(
                client, ref, person, f":information_source: {escape(str(exc))}{hint}"
            )
            return None
        state = await runner.state(ref.thread)
        made = (outcome.draft or {}).get("content_hash")
        if state.get("decision_refused"):
            await self.whisper(client, ref, person, f":no_entry: {escape(outcome.said)}{hint}")
        elif outcome.automation is not None:
            approvers = ", ".join(a["user"] for a in state.get("approvals") or []) or person.name
            await self.show(
                client,
                ref,
                status=f":white_check_mark: Approved by {escape(approvers)}; "
                f"live as automation `{escape(outcome.automation['id'])}`.",
            )
            said = escape(outcome.said)
            await client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts, text=said)
        elif kind == "ignore":
            await self.show(
                client,
                ref,
                status=f":no_entry_sign: Rejected by {escape(person.name)}. Nothing was run.",
            )
        elif outcome.draft is not None:
            await self.show(client, ref)
        elif kind == "accept" and self._approved_by(state, person.name):
            await self.show(client, ref)
            said = escape(outcome.said)
            await client.chat_postMessage(channel=ref.channel, thread_ts=ref.ts, text=said)
        else:  # an edit that did not apply
            await self.whisper(client, ref, person, f":no_entry: {escape(outcome.said)}{hint}")
        return str(made) if made else None

    @staticmethod
    def _approved_by(state: dict[str, Any], name: str) -> bool:
        workflow = state.get("workflow") or {}
        return any(
            a.get("user") == name and a.get("content_hash") == workflow.get("content_hash")
            for a in state.get("approvals") or []
        )

    # -- edit modal ------------------------------------------------------------------

    async def _open_editor(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Open the modal over the steps (trigger ids expire in 3 s: this is not lazy)."""
        await ack()
        ref = MessageRef.of_click(body)
        runner = self.current().runner
        state = await runner.state(ref.thread)
        pending = await runner.pending_review(ref.thread)
        person = Person(str(body["user"]["id"]), "", linked=True)
        if not state.get("workflow") or pending is None:
            await self.whisper(client, ref, person, "This draft is no longer waiting for review.")
            return
        draft = WorkflowDraft.model_validate(state["workflow"])
        if clicked_value(body) != review_hash(pending):
            await self.whisper(
                client,
                ref,
                person,
                f"That button was for another version: v{draft.version} is current; "
                "review it and decide again.",
            )
            return
        metadata = {
            "team": ref.team,
            "channel": ref.channel,
            "ts": ref.ts,
            "hash": draft.content_hash,
        }
        await client.views_open(trigger_id=body["trigger_id"], view=edit_modal(draft, metadata))

    async def _ack_edit(self, ack: Any, view: dict[str, Any]) -> None:
        """Close the modal, or keep it open with an error when the form asks for nothing."""
        _, removed, instruction = read_edit_modal(view["state"]["values"])
        steps = {
            b["block_id"]
            for b in view.get("blocks") or []
            if b.get("block_id", "").startswith(STEP_BLOCK_PREFIX)
        }
        if steps and {STEP_BLOCK_PREFIX + r for r in removed} >= steps and not instruction:
            await ack(
                response_action="errors",
                errors={"remove": "A workflow needs at least one step: keep one, or reject it."},
            )
            return
        await ack()

    async def _save_edit(
        self, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Save the form as a new version, then apply the typed instruction, if any."""
        meta = json.loads(view.get("private_metadata") or "{}")
        ref = MessageRef(
            team=meta.get("team", ""), channel=meta.get("channel", ""), ts=meta.get("ts", "")
        )
        titles, removed, instruction = read_edit_modal(view["state"]["values"])
        state = await self.current().runner.state(ref.thread)
        if not state.get("workflow"):
            return
        current = WorkflowDraft.model_validate(state["workflow"])
        if current.content_hash != meta.get("hash"):
            person = Person(str(body["user"]["id"]), "", linked=True)
            await self.whisper(
                client,
                ref,
                person,
                f"The draft changed (now v{current.version}) since you opened the editor, so "
                "your edit was not saved: open Edit again.",
            )
            return
        kept = [t for t in titles if t["id"] not in removed]
        steps = edited_steps(current, kept)
        shown = current.content_hash
        if steps is not None:
            edit = {"workflow": {"steps": steps}}
            # The typed change below applies on top of the version this edit makes.
            shown = await self.decide(body, client, ref, "edit", edit, shown=shown) or shown
        if instruction:
            await self.decide(body, client, ref, "response", instruction, shown=shown)

    # -- support desk ------------------------------------------------------------------

    async def _reply_to_message(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Take the message as a ticket, draft a reply, and send it to the agent to decide."""
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id", ""))
        agent = Person(str(body["user"]["id"]), "", linked=True)
        where = MessageRef(team=team_of(body), channel=channel, ts=str(message.get("ts", "")))
        content = str(message.get("text") or "").strip()
        if not content:
            await self.whisper(client, where, agent, "That message has no text to reply to.")
            return
        author = str(message.get("user") or "")
        email = await self._email_of(client, author) if author else None
        ticket = Ticket(
            id=f"slack-{where.team}-{channel}-{where.ts}",
            subject=content.splitlines()[0][:120],
            body=content[:MAX_TEXT_CHARS],
            customer=Customer(email=email or f"{author or 'someone'}@users.slack.invalid"),
            # The reply goes back in the thread of the message it answers.
            channel=f"slack:{channel}:{message.get('thread_ts') or where.ts}",
        )
        try:
            row, _ = store_ticket(
                self.services.engine, ticket, source="slack", actor=f"slack:{agent.slack_id}"
            )
            desk = self.current().desk
            await desk.draft(row.id or 0)
            await self._post_reply_card(
                client, agent.slack_id, desk.item(ticket_label(row.id or 0))
            )
        except (DeskError, TicketError) as exc:
            await self.whisper(client, where, agent, f":warning: {exc}")

    async def _send_queue(
        self, command: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        items = self.current().desk.queue(limit=QUEUE_SHOWN)
        if not items:
            await respond(
                text="The queue is empty: no reply waits for an agent.", response_type="ephemeral"
            )
            return
        for item in items:
            await self._post_reply_card(client, str(command["user_id"]), item)

    async def _post_reply_card(self, client: AsyncWebClient, user: str, item: QueueItem) -> None:
        """Send an agent a ticket with its draft, sources and buttons, in a direct message."""
        blocks = reply_blocks(item.ref, item.ticket, item.record, item.citations)
        await client.chat_postMessage(
            channel=user, text=escape(f"{item.ref}: {item.ticket.subject}"), blocks=blocks
        )

    async def _accept_reply(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        ref = str(body["actions"][0]["value"])
        await self._decide_reply(body, client, MessageRef.of_click(body), ref, "accept")

    async def _retry_reply(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        ref = str(body["actions"][0]["value"])
        await self._decide_reply(body, client, MessageRef.of_click(body), ref, "retry")

    async def _open_reply_editor(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        ref, where = str(body["actions"][0]["value"]), MessageRef.of_click(body)
        try:
            item = self.current().desk.item(ref)
        except DeskError as exc:
            await self.whisper(client, where, Person(str(body["user"]["id"]), "", True), str(exc))
            return
        first = (item.ticket.customer.name or "").split()
        start = (
            item.record.drafted_body
            if not item.needs_writing
            else f"Hi {first[0] if first else 'there'},\n\n"
        )
        metadata = {"team": where.team, "channel": where.channel, "ts": where.ts}
        await client.views_open(
            trigger_id=body["trigger_id"], view=reply_edit_modal(ref, start, metadata)
        )

    async def _open_reject(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        ref, where = str(body["actions"][0]["value"]), MessageRef.of_click(body)
        metadata = {"team": where.team, "channel": where.channel, "ts": where.ts}
        await client.views_open(
            trigger_id=body["trigger_id"], view=reply_reject_modal(ref, metadata)
        )

    @staticmethod
    async def _ack_reply_view(ack: Any, view: dict[str, Any]) -> None:
        """Keep the modal open with an error when the reply or the reason is empty."""
        values = view["state"]["values"]
        if "reply" in values and not str(values["reply"]["body"].get("value") or "").strip():
            await ack(response_action="errors", errors={"reply": "Write the reply to send."})
        elif "reason" in values and not str(values["reason"]["text"].get("value") or "").strip():
            await ack(
                response_action="errors", errors={"reason": "Say why, so the drafts improve."}
            )
        else:
            await ack()

    async def _send_edited_reply(
        self, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        text_ = str(view["state"]["values"]["reply"]["body"].get("value") or "")
        await self._decide_reply(body, client, ref_of(meta), meta["ref"], "edit", text_)

    async def _reject_reply(
        self, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        reason = str(view["state"]["values"]["reason"]["text"].get("value") or "")
        await self._decide_reply(body, client, ref_of(meta), meta["ref"], "reject", reason)

    async def _decide_reply(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        where: MessageRef,
        ref: str,
        kind: str,
        argument: str = "",
    ) -> None:
        """Apply an agent's decision and show its outcome on the ticket's card."""
        person = await self.person(client, str(body["user"]["id"]))
        desk = self.current().desk
        try:
            if kind == "accept":
                record = await desk.accept(ref, person.name)
            elif kind == "edit":
                record = await desk.edit(ref, person.name, argument)
            elif kind == "retry":
                record = await desk.retry(ref, person.name)
            else:
                record = await desk.reject(ref, person.name, argument)
        except DeskError as exc:
            hint = "" if person.linked else "\n" + self.link_hint(person)
            await self.whisper(client, where, person, f":no_entry: {escape(str(exc))}{hint}")
            return
        if record.status == "sent":
            status = (
                f":white_check_mark: Reply {record.decision} and sent by {escape(person.name)}."
            )
        elif record.status == "rejected":
            status = (
                f":no_entry_sign: Rejected by {escape(person.name)}: {escape(record.reason or '')}"
            )
        elif record.status == "waiting" and (record.reason or "").startswith("escalated"):
            # A ticket routed to a person is never dropped: it goes to the support lead.
            status = f":arrow_up: Handed on to the support lead: {escape(record.reason or '')}"
        else:
            status = failed_status(record.delivery)
        item = desk.item(ref)
        blocks = reply_blocks(ref, item.ticket, item.record, item.citations, status=status)
        await self._update(client, where, blocks, f"{ref}: {record.status}")

    async def _email_of(self, client: AsyncWebClient, slack_id: str) -> str | None:
        try:
            info = await client.users_info(user=slack_id)
        except SlackApiError:
            return None
        return ((info.get("user") or {}).get("profile") or {}).get("email")

    # -- anything else ----------------------------------------------------------------

    async def _unknown_action(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        if user and channel:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                text="Sorry, I don't know that action. Try `/flowdraft help`.",
            )

    # -- helpers -------------------------------------------------------------------

    async def person(self, client: AsyncWebClient, slack_id: str) -> Person:
        """Return the Flowdraft user behind ``slack_id``: linked id, else same email."""
        engine = self.services.engine
        user = user_for_slack(engine, slack_user_id=slack_id)
        if user is None:
            email = await self._email_of(client, slack_id)
            user = user_for_slack(engine, slack_user_id=slack_id, email=email)
        if user is None:
            return Person(slack_id, f"slack:{slack_id}", linked=False)
        return Person(slack_id, user.name, linked=True)

    @staticmethod
    def link_hint(person: Person) -> str:
        """Say how to link an unknown Slack user to a Flowdraft user."""
        return (
            f"Your Slack account is not linked to a Flowdraft user. An admin can link it with "
            f"`flowdraft users link-slack NAME {person.slack_id}`, or give your Flowdraft user "
            "the same email as your Slack profile."
        )

    async def show(
        self, client: AsyncWebClient, ref: MessageRef, status: str | None = None
    ) -> None:
        """Redraw the message as its thread stands: the current version, and buttons if waiting."""
        runner = self.current().runner
        state = await runner.state(ref.thread)
        if not state.get("workflow"):
            return
        draft = WorkflowDraft.model_validate(state["workflow"])
        pending: ReviewRequest | None = None if status else await runner.pending_review(ref.thread)
        blocks = draft_blocks(draft, pending, status=status, notice=state.get("notice"))
        await self._update(client, ref, blocks, f"{draft.title} (v{draft.version})")

    @staticmethod
    async def _update(
        client: AsyncWebClient, ref: MessageRef, blocks: list[dict[str, Any]], fallback: str
    ) -> None:
        await client.chat_update(
            channel=ref.channel, ts=ref.ts, text=escape(fallback[:3000]), blocks=blocks
        )

    @staticmethod
    async def whisper(
        client: AsyncWebClient, ref: MessageRef, person: Person, message: str
    ) -> None:
        """Tell one person something, in the message's channel, that only they see."""
        await client.chat_postEphemeral(channel=ref.channel, user=person.slack_id, text=message)


def clicked_value(body: dict[str, Any]) -> str:
    """Return the value of the clicked button: the content hash of the version it was shown with."""
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def ref_of(metadata: dict[str, str]) -> MessageRef:
    """Return the message a modal was opened from (kept in its private metadata)."""
    return MessageRef(
        team=metadata.get("team", ""),
        channel=metadata.get("channel", ""),
        ts=metadata.get("ts", ""),
    )
