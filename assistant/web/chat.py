"""The browser chat (Chainlit): it only translates events to messages and buttons to decisions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import chainlit as cl
from chainlit.data import get_data_layer
from chainlit.types import ThreadDict

from assistant.db.users import verify_login
from assistant.db.versions import get_version, recent_threads
from assistant.rendering import safe_markdown
from assistant.review import edited_steps, review_hash, review_version
from assistant.schemas import ReviewRequest, ReviewResponse, WorkflowDraft
from assistant.web import desk as support_queue
from assistant.web import runtime
from assistant.web.drafts import (
    draft_elements,
    draft_message,
    retire,
    review_actions,
    review_message,
    run_notes,
)
from assistant.web.editing import edit_form, form_outcome
from assistant.web.history import add_to_thread, find_marked, marker
from assistant.web.page import serve_local_page
from assistant.web.quiet import build_quiet_data_layer
from assistant.web.sandbox import live_sandbox_line, sandboxed_connectors
from assistant.web.session import roles, who
from graphs.runner import ChatRunner, InputError

serve_local_page()


@cl.data_layer
def history() -> Any:
    """Keep chat history in the app database, so threads survive a restart."""
    return build_quiet_data_layer(runtime.current().services.settings)


@cl.password_auth_callback
async def login(username: str, password: str) -> cl.User | None:
    """Log in against the users table (hashed passwords; throttled in ``assistant.web.login``)."""
    engine = runtime.current().services.engine
    # scrypt takes tens of milliseconds: keep it off the event loop.
    user = await asyncio.to_thread(verify_login, engine, name=username.strip(), password=password)
    if user is None:
        return None
    return cl.User(identifier=user.name, metadata={"roles": user.role_list})


def thread_id() -> str:
    """Return the graph thread for this chat: the Chainlit thread id."""
    return str(cl.context.session.thread_id)


def take_up(graph_thread: str) -> None:
    """Send this chat's answers to the review of ``graph_thread``, whose draft it shows."""
    cl.user_session.set("graph_thread", graph_thread)


def defer_first_interaction() -> None:
    """Hold back the start of this chat's own thread until its first message says which it is.

    Chainlit names a chat's thread after its first message and lists it in the sidebar
    before ``on_message`` runs; a chat offering a waiting draft may instead go on in that
    draft's thread (see ``typed_thread``).
    """
    session = cl.context.session
    if not session.has_first_interaction:
        session.has_first_interaction = True
        cl.user_session.set("first_interaction_deferred", True)


async def typed_thread(runner: ChatRunner, message: cl.Message) -> str:
    """Return the graph thread ``message`` goes to.

    What answers the review of a draft this chat took up (an edit, approve, reject) goes to
    that draft, and a chat that has not started its own thread goes on in the draft's, so a
    reload does not open a new one in the sidebar. Anything else (a question, a new goal)
    is this chat's own conversation, on its own thread.
    """
    session = cl.context.session
    taken = str(cl.user_session.get("graph_thread") or "")
    answers = (
        bool(taken)
        and taken != session.thread_id
        and await runner.answers_review(taken, message.content)
    )
    if cl.user_session.get("first_interaction_deferred"):
        cl.user_session.set("first_interaction_deferred", False)
        layer = get_data_layer()
        stored = await layer.get_thread(taken) if layer and answers else None
        if layer and stored and stored.get("userIdentifier") == who():
            session.thread_id = taken
            # Chainlit may still be storing the message in this chat's unlisted thread: the
            # draft's thread gets a copy, and the turn's run step (stored again when it ends)
            # moves there under it, so the reopened thread shows the turn.
            copy = {**message.to_dict(), "id": str(uuid.uuid4()), "threadId": taken}
            await layer.create_step(copy)
            run = cl.context.current_step
            if run is not None:
                run.thread_id, run.parent_id = taken, copy["id"]
        else:
            await cl.context.emitter.init_thread(message.content)  # Chainlit's own start
    return taken if answers else str(session.thread_id)


def reviewed_draft(request: ReviewRequest) -> WorkflowDraft | None:
    """Return the workflow draft a review asks about (None when it is about a reply)."""
    workflow = request.action_request.args.get("workflow")
    return WorkflowDraft.model_validate(workflow) if workflow else None


STEP_NAMES = {
    "capture_intent": "Understanding the request",
    "retrieve_context": "Searching playbooks and policies",
    "draft_workflow": "Drafting the workflow",
    "revise_workflow": "Applying your change",
    "edit_workflow": "Applying your edit",
    "check_policy": "Checking policy",
    "approve": "Checking the approver's roles",
    "activate": "Making the approved version live",
    "answer": "Answering from the library",
    "draft_reply": "Drafting a reply",
}


async def render(events: AsyncIterator[dict[str, Any]], graph_thread: str) -> None:
    """Show each event of a turn of ``graph_thread``: steps, the draft, a review's buttons.

    The review that waited before the turn loses its buttons once the turn has decided
    it (approved, rejected, or replaced by a new version).
    """
    runner = runtime.current().runner
    before = await runner.pending_review(graph_thread)
    open_steps: dict[str, cl.Step] = {}
    holder: list[cl.Message] = []
    notes: list[str] = []  # what to know about the outcome, said after it
    try:
        async for event in events:
            if event["type"] in ("activated", "run"):
                notes += outcome_notes(event)
            elif event["type"] == "progress":
                if not holder:
                    # Steps hang under one message sent first, so they read before the draft;
                    # it says what it holds, never showing as an empty bubble.
                    holder.append(cl.Message(content="Working on it…", author="Flowdraft"))
                    await holder[0].send()
                await render_progress(event, open_steps, holder[0].id)
            else:  # a new goal typed beside a draft is drafted on a thread of its own
                await render_event(event, str(event.get("thread") or graph_thread))
    except InputError as exc:
        await cl.Message(content=f"⚠️ {safe_markdown(str(exc))}").send()
    if notes:
        await cl.Message(content="\n\n".join(notes)).send()
    if holder:
        holder[0].content = "The steps I took:"
        await holder[0].update()
    if before is not None:
        after = await runner.pending_review(graph_thread)
        if after is None or review_hash(after) != review_hash(before):
            await retire(graph_thread, review_hash(before))


async def render_progress(
    event: dict[str, Any], open_steps: dict[str, cl.Step], parent: str
) -> None:
    """Open a step when a node starts; fill in what it found when it ends."""
    name = STEP_NAMES.get(event["node"])
    if name is None:
        return
    if event["phase"] == "start":
        step = cl.Step(name=name, type="tool", parent_id=parent)
        open_steps[event["node"]] = step
        await step.send()
        return
    step = (
        open_steps.pop(event["node"])
        if event["node"] in open_steps
        else cl.Step(name=name, type="tool", parent_id=parent)
    )
    step.output = safe_markdown(event["summary"] or "done")
    await step.update()


def previous_version(draft: WorkflowDraft) -> WorkflowDraft | None:
    """Return the version before ``draft`` (None for a first version)."""
    if draft.version <= 1:
        return None
    engine = runtime.current().services.engine
    return get_version(engine, workflow_id=draft.id, version=draft.version - 1)


async def render_event(event: dict[str, Any], graph_thread: str) -> None:
    """Show one event of ``graph_thread`` (which may not be this chat's thread)."""
    kind = event["type"]
    if kind == "draft":
        draft = WorkflowDraft.model_validate(event["workflow"])
        await draft_message(draft, graph_thread, previous_version(draft)).send()
    elif kind == "review":
        await review_message(ReviewRequest.model_validate(event["request"]), graph_thread).send()
    elif kind == "message" and event["text"].strip():
        await cl.Message(content=safe_markdown(event["text"])).send()
    elif kind == "error":
        await cl.Message(content=f"⚠️ {safe_markdown(event['message'])}").send()


def outcome_notes(event: dict[str, Any]) -> list[str]:
    """Return what to tell about a live automation or a run: what only runs in sandbox mode."""
    if event["type"] == "run":
        return run_notes(event["run"])
    current = runtime.current()
    automation = event["automation"]
    draft = get_version(
        current.services.engine,
        workflow_id=str(automation.get("workflow_id")),
        version=automation.get("version"),
    )
    line = (
        live_sandbox_line(sandboxed_connectors(current.services.registry, draft)) if draft else None
    )
    return [line] if line else []


@cl.on_chat_start
async def start() -> None:
    """Greet the user, and bring back a draft of theirs that still waits for review."""
    await cl.Message(
        content=(
            f"Hi {who()}! Describe a process to automate — for example *every vendor invoice over "
            "$10,000 needs CFO sign-off; post a summary in #finance* — or ask about a policy."
        )
    ).send()
    await offer_waiting_draft()
    if support_queue.is_agent(roles()):
        await support_queue.offer_queue()


async def offer_waiting_draft() -> None:
    """Show the user's most recent draft still waiting for review, with its buttons.

    This is what makes a page reload or a server restart mid-review harmless: the review
    lives in the graph's checkpoint, not in the browser session.
    """
    current = runtime.current()
    runner = current.runner
    for thread in recent_threads(current.services.engine, author=who(), limit=5):
        pending = await runner.pending_review(thread)
        if pending is None:
            continue
        for message in waiting_messages(pending, thread):
            await message.send()
        take_up(thread)
        defer_first_interaction()
        return


def waiting_messages(request: ReviewRequest, graph_thread: str) -> list[cl.Message]:
    """Return the messages that offer a review again: a notice, the draft, the buttons."""
    draft = reviewed_draft(request)
    return [
        cl.Message(content="This draft of yours is still waiting for review:"),
        *([draft_message(draft, graph_thread)] if draft else []),
        review_message(request, graph_thread),
    ]


@cl.on_chat_resume
async def resume(thread: ThreadDict) -> None:
    """Give a reopened thread that waits for review its buttons, diagram and sources back.

    Chainlit sends ``thread`` to the browser once this returns, and the browser replaces the
    chat with it: messages sent here vanish (chainlit/socket.py ``connection_successful``;
    Chainlit issue #2611), changes made to ``thread`` show (the order is meant for that:
    Chainlit PR #968). It stored neither elements nor buttons. So elements go into
    ``thread``, and the buttons are sent for the stored review message, which the browser
    keeps: it keeps actions apart from messages and does not reset them on that redraw.
    """
    runner = runtime.current().runner
    # The draft this thread took up last (see ``take_up``; kept in the thread's metadata),
    # or else its own.
    graph_thread = str(cl.user_session.get("graph_thread") or thread["id"])
    pending = await runner.pending_review(graph_thread)
    if pending is None and graph_thread != thread["id"]:
        graph_thread = thread["id"]
        pending = await runner.pending_review(graph_thread)
    if pending is None:
        return
    take_up(graph_thread)
    review_id = find_marked(thread, marker("review", graph_thread, pending))
    if review_id is None:  # offered in another chat (or changed there): offer it here too
        messages = waiting_messages(pending, graph_thread)
        for message in messages:
            await message.send()
        steps = [m.to_dict() for m in messages]
        add_to_thread(thread, steps, [e.to_dict() for m in messages for e in m.elements])
        return
    for action in review_actions(pending, graph_thread):
        await action.send(for_id=review_id)
    draft = reviewed_draft(pending)
    draft_id = find_marked(thread, marker("draft", graph_thread, draft)) if draft else None
    if draft and draft_id:
        elements = draft_elements(draft)
        for element in elements:
            element.for_id = draft_id
        add_to_thread(thread, elements=[e.to_dict() for e in elements])


@cl.on_message
async def on_message(message: cl.Message) -> None:
    """Run a turn (or answer a pending review in plain words); agents also type queue, stats."""
    runner = runtime.current().runner
    thread = await typed_thread(runner, message)
    command = support_queue.desk_command(message.content)
    if command == "queue":
        await support_queue.show_queue()
        return
    if command == "stats":
        await support_queue.show_stats()
        return

    async def followed() -> AsyncIterator[dict[str, Any]]:
        async for event in runner.send_text(thread, message.content, who(), progress=True):
            if event["type"] == "review":
                take_up(event["thread"])  # typed changes go to the draft shown last
            yield event

    await render(followed(), thread)


def button_thread(action: cl.Action) -> str:
    """Return the graph thread a button belongs to."""
    return str(action.payload.get("thread") or thread_id())


def button_hash(action: cl.Action) -> str:
    """Return the content hash a button was shown with ("" for a button that names none).

    The browser sends the payload, so it is only a claim: the graph checks it against the
    review that is pending and the user is always the one logged in.
    """
    return str(action.payload.get("content_hash") or "")[:128]


async def decide(action: cl.Action, kind: str, args: Any = None, bound: str = "") -> str | None:
    """Send the logged-in user's decision, bound to the version the button was shown with.

    Return the content hash of the new version the decision made, if it made one.
    """
    thread = button_thread(action)
    decision = ReviewResponse.model_validate(
        {"type": kind, "args": args, "user": who(), "content_hash": bound or button_hash(action)}
    )
    made: list[str] = []

    async def watched() -> AsyncIterator[dict[str, Any]]:
        async for event in runtime.current().runner.send_decision(thread, decision, progress=True):
            if event["type"] == "draft":
                made.append(str(event["workflow"]["content_hash"]))
            if event["type"] == "review" and review_hash(
                ReviewRequest.model_validate(event["request"])
            ) == (decision.content_hash or ""):
                # A refused decision leaves the same version waiting: its review is already
                # on the screen of whoever may see it, and is not shown again to the refused.
                continue
            yield event

    await render(watched(), thread)
    pending = await runtime.current().runner.pending_review(thread)
    if decision.content_hash and (pending is None or review_hash(pending) != decision.content_hash):
        await retire(thread, decision.content_hash)  # a stale button, shown in another tab
    return made[-1] if made else None


@cl.action_callback("approve")
async def on_approve(action: cl.Action) -> None:
    """Approve the pending draft (the graph checks the user's roles)."""
    await decide(action, "accept")


@cl.action_callback("reject")
async def on_reject(action: cl.Action) -> None:
    """Reject the pending draft (the graph checks the user may)."""
    await decide(action, "ignore")


@cl.action_callback("edit")
async def on_edit(action: cl.Action) -> None:
    """Open a form over the steps; save what it changes as a new version (an ``edit``)."""
    runner = runtime.current().runner
    thread = button_thread(action)
    pending = await runner.pending_review(thread)
    if pending is None:
        await cl.Message(content="This draft is no longer waiting for review.").send()
        return
    current = reviewed_draft(pending)
    if current is None:  # a reply is edited in the support queue, not with this form
        return
    if review_hash(pending) != button_hash(action):
        await cl.Message(
            content=f"⚠️ This button is for an older version: v{review_version(pending)} is "
            "current; review it and decide again."
        ).send()
        return
    ask = cl.AskElementMessage(
        content=f"Edit v{current.version}: change a step's settings, order or name, or describe "
        "a change:",
        element=edit_form(current),
        timeout=900,
    )
    try:
        answer = await ask.send()
        # Chainlit rewrites the form's message to "Thanks for submitting": say what happened.
        ask.content = form_outcome(current, answer)
        await ask.update()
        if not answer or not answer.get("submitted"):
            return
        submitted: Any = answer.get("steps") or []
        edited = edited_steps(current, list(submitted))
        bound = button_hash(action)
        if edited is not None:
            # The typed change below applies on top of the version this edit makes.
            bound = await decide(action, "edit", {"workflow": {"steps": edited}}) or bound
        instruction = str(answer.get("instruction") or "").strip()
        if instruction:
            await decide(action, "response", instruction, bound)
    finally:
        await support_queue.end_task()  # else the chat input stays busy after the form
