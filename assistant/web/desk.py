"""The support queue in the browser: tickets with their drafted replies and evidence, and
Accept / Edit / Reject for agents; `stats` shows how the desk is doing.

Agents type ``queue`` (or press *Open the support queue*) and ``stats`` in the chat. The
decisions go through the same support desk as Slack, the CLI and the API. Only support agents
(support, support_lead, admin, checked against the users table on every use) see the queue,
the stats or a ticket; a button's payload names a ticket, never who decides.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import chainlit as cl

from assistant.rendering import literal, quoted, safe_markdown
from assistant.support.desk import DeskError, QueueItem
from assistant.support.metrics import desk_stats
from assistant.web import runtime
from assistant.web.desk_cards import (
    card,
    escalated,
    item_actions,
    outcome_line,
    retry_action,
)
from assistant.web.session import who
from assistant.web.sources import source_chips

QUEUE_SHOWN = 5
WATCH_SECONDS = 3.0
"""How often an agent's open chat looks for new tickets to show."""
QUEUE_WORDS = {"queue", "/queue", "support queue", "tickets", "show the queue"}
STATS_WORDS = {"stats", "/stats", "desk stats", "support stats"}


def is_agent(roles: list[str]) -> bool:
    """Tell whether someone with ``roles`` works the support queue (the policy says who)."""
    return runtime.current().services.policy.policy.is_support_agent(roles)


def desk_command(text: str) -> str | None:
    """Return ``queue`` or ``stats`` when a typed message asks for one, else None."""
    cleaned = text.strip().lower().rstrip(".!")
    if cleaned in QUEUE_WORDS:
        return "queue"
    if cleaned in STATS_WORDS:
        return "stats"
    return None


def queue_action() -> cl.Action:
    """Return the button that opens the queue."""
    return cl.Action(name="open_queue", payload={}, label="Open the support queue")


async def offer_queue() -> None:
    """Tell an agent how many tickets wait for them, with a button to open the queue."""
    desk = runtime.current().desk
    waiting, failed = desk.waiting(), desk.failed()
    retries = f" and **{failed}** failed deliver(ies) wait for a retry" if failed else ""
    await cl.Message(
        content=(
            f"**{waiting}** support ticket(s) wait for an agent{retries}. Type *queue* to work "
            "them, *stats* for the desk's metrics."
        ),
        actions=[queue_action()] if waiting or failed else [],
    ).send()
    start_watching()


def start_watching() -> None:
    """Show new tickets in this chat as they arrive, without the agent asking for them."""
    if cl.user_session.get("desk_watch") is None:
        already = {item.ref for item in runtime.current().desk.queue(limit=500)}
        cl.user_session.set("desk_watch", asyncio.create_task(watch_queue(already)))


async def watch_queue(seen: set[str]) -> None:
    """Every ``WATCH_SECONDS``, show the queued tickets this chat has not seen yet."""
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        shown: dict[str, Any] = cl.user_session.get("desk_actions") or {}
        for item in runtime.current().desk.queue(limit=QUEUE_SHOWN):
            if item.ref not in seen and item.ref not in shown:
                seen.add(item.ref)
                await show_item(item, "**New ticket in the queue**")


@cl.on_chat_end
async def stop_watching() -> None:
    """Stop looking for new tickets once the chat is closed."""
    task = cl.user_session.get("desk_watch")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def signed_in_agent() -> str | None:
    """Return the logged-in user if they are a support agent; else say why not and return None."""
    name = who()
    try:
        runtime.current().desk.check_agent(name)
    except DeskError as exc:
        await cl.Message(content=f"⚠️ The support queue is for support agents: {exc}").send()
        return None
    return name


async def show_queue() -> None:
    """Show the most urgent queued tickets, each with its draft, sources and buttons."""
    if await signed_in_agent() is None:
        return
    items = runtime.current().desk.queue(limit=QUEUE_SHOWN)
    if not items:
        await cl.Message(content="The support queue is empty: no reply waits for an agent.").send()
        return
    for item in items:
        await show_item(item)


async def show_item(item: QueueItem, heading: str = "") -> None:
    """Show one ticket with its buttons (``item_actions``), under an optional heading."""
    actions = item_actions(item)
    shown: dict[str, list[cl.Action]] = cl.user_session.get("desk_actions") or {}
    for old in shown.get(item.ref, []):  # a ticket shown again keeps one set of buttons
        await old.remove()
    shown[item.ref] = actions
    cl.user_session.set("desk_actions", shown)
    chips = [source_chips(item.citations)] if item.citations else []
    content = f"{heading}\n\n{card(item)}" if heading else card(item)
    await cl.Message(content=content, elements=chips, actions=actions).send()


async def show_stats() -> None:
    """Show the desk's metrics, overall and per agent, as a table."""
    if await signed_in_agent() is None:
        return
    stats = desk_stats(runtime.current().services.engine)
    rows = [("overall", stats["overall"]), *stats["agents"].items()]

    def cell(value: Any, percent: bool = False) -> str:
        if value is None:
            return "—"
        return f"{value:.0%}" if percent else str(value)

    lines = [
        f"**Support desk**: {stats['tickets']} tickets, {stats['waiting']} waiting, "
        f"{stats['routed_to_human']} routed to a person.",
        "",
        "| agent | decided | accepted | edited | rejected | mean edit (chars) | first response (median s) | rejection reasons |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in rows:
        reasons = "; ".join(f"{literal(r)} ({n})" for r, n in figures["rejection_reasons"].items())
        lines.append(
            f"| {literal(name)} | {figures['decided']} | {cell(figures['acceptance_rate'], True)} | "
            f"{cell(figures['edit_rate'], True)} | {cell(figures['rejection_rate'], True)} | "
            f"{cell(figures['edit_chars_mean'])} | {cell(figures['first_response_median_s'])} | "
            f"{reasons or '—'} |"
        )
    await cl.Message(content="\n".join(lines)).send()


async def outcome(ref: str, action: cl.Action, decide: Any) -> None:
    """Apply a decision; show the result on the ticket's card, or why it was refused."""
    desk = runtime.current().desk
    try:
        record = await decide(desk)
    except DeskError as exc:
        await cl.Message(content=f"⚠️ {safe_markdown(str(exc))}").send()
        return
    shown: dict[str, list[cl.Action]] = cl.user_session.get("desk_actions") or {}
    for button in shown.pop(ref, [action]):
        await button.remove()
    if escalated(record):  # still waits for a person: shown again with its buttons
        await show_item(desk.item(ref), f"⤴️ **{ref} stays in the queue for the support lead.**")
        return
    status = outcome_line(record)
    retry = [retry_action(ref)]
    failed = record.status == "failed"
    if failed:
        shown[ref] = retry
        cl.user_session.set("desk_actions", shown)
    await cl.Message(content=card(desk.item(ref), status), actions=retry if failed else []).send()


@cl.action_callback("open_queue")
async def on_open_queue(action: cl.Action) -> None:
    """Open the queue (for agents only: ``show_queue`` checks)."""
    await show_queue()


@cl.action_callback("reply_accept")
async def on_accept(action: cl.Action) -> None:
    """Send the drafted reply as it is."""
    ref = str(action.payload["ref"])
    if (agent := await signed_in_agent()) is not None:
        await outcome(ref, action, lambda desk: desk.accept(ref, agent))


@cl.action_callback("reply_retry")
async def on_retry(action: cl.Action) -> None:
    """Send a reply whose delivery failed again."""
    ref = str(action.payload["ref"])
    if (agent := await signed_in_agent()) is not None:
        await outcome(ref, action, lambda desk: desk.retry(ref, agent))


@cl.action_callback("reply_edit")
async def on_edit(action: cl.Action) -> None:
    """Open a form with the draft (or a greeting, when the agent writes it) and send it."""
    ref = str(action.payload["ref"])
    if (agent := await signed_in_agent()) is None:
        return
    try:
        item = runtime.current().desk.item(ref)
    except DeskError as exc:
        await cl.Message(content=f"⚠️ {safe_markdown(str(exc))}").send()
        return
    first = (item.ticket.customer.name or "").split()
    start = (
        f"Hi {first[0] if first else 'there'},\n\n"
        if item.needs_writing
        else item.record.drafted_body
    )
    form = cl.CustomElement(name="ReplyForm", props={"body": start})
    # The form comes with the customer's words, so the agent writes with the ticket in view.
    ticket = item.ticket
    ask = cl.AskElementMessage(
        content=f"**Your reply to {ref}: {literal(ticket.subject)}**\n\n"
        f"{quoted(ticket.body, max_lines=40)}",
        element=form,
        timeout=900,
    )
    try:
        answer = await ask.send()
        # Chainlit rewrites the form's message to "Thanks for submitting": say what happened.
        done = "written; the result follows" if answer and answer.get("submitted") else "not sent"
        ask.content = f"Your reply to {ref}: {done}."
        await ask.update()
        if answer and answer.get("submitted"):
            body = str(answer.get("body") or "")
            await outcome(ref, action, lambda desk: desk.edit(ref, agent, body))
    finally:
        await end_task()


@cl.action_callback("reply_reject")
async def on_reject(action: cl.Action) -> None:
    """Ask why, then discard the draft."""
    ref = str(action.payload["ref"])
    if (agent := await signed_in_agent()) is None:
        return
    try:
        needs_writing = runtime.current().desk.item(ref).needs_writing
    except DeskError as exc:
        await cl.Message(content=f"⚠️ {safe_markdown(str(exc))}").send()
        return
    question = (
        f"Why hand {ref} on to the support lead? (e.g. needs the privacy team)"
        if needs_writing
        else f"Why is the draft for {ref} wrong? (e.g. wrong article, wrong tone)"
    )
    try:
        answer = await cl.AskUserMessage(content=question, timeout=900).send()
        if answer:
            reason = str(answer.get("output") or "")
            await outcome(ref, action, lambda desk: desk.reject(ref, agent, reason))
    finally:
        await end_task()


async def end_task() -> None:
    """Tell the browser the callback is done.

    Chainlit's ask marks the task as running again once answered (emitter ``send_ask_user``
    ends with ``task_start``); messages end it, action callbacks do not, so without this
    the chat input stays busy after a form.
    """
    await cl.context.emitter.task_end()
