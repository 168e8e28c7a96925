"""The browser chat (Chainlit): it only translates events to messages and buttons to decisions."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import chainlit as cl
from chainlit.data import get_data_layer
from chainlit.types import ThreadDict

from assistant.db.users import verify_login
from assistant.db.versions import recent_threads
from assistant.diagram import workflow_svg
from assistant.rendering import code_span, literal, safe_markdown
from assistant.review import action_target, edited_steps, review_hash, review_version
from assistant.schemas import ReviewRequest, ReviewResponse, WorkflowDraft
from assistant.web import desk as support_queue
from assistant.web import runtime
from assistant.web.history import add_to_thread, build_data_layer, find_marked, marker
from assistant.web.session import roles, who
from assistant.web.sources import source_chips
from graphs.runner import ChatRunner, InputError

RISK_BADGE = {"low": "low", "medium": "medium", "high": "**high**"}


@cl.data_layer
def history() -> Any:
    """Keep chat history in the app database, so threads survive a restart."""
    return build_data_layer(runtime.current().services.settings)


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


def steps_table(draft: WorkflowDraft) -> str:
    """Return the draft as a markdown table."""
    lines = [
        f"### {literal(draft.title)} — v{draft.version}",
        f"*Trigger:* {draft.trigger.kind} — {literal(draft.trigger.detail)}",
        "",
        "| # | step | does | risk | approver | notes |",
        "|---|---|---|---|---|---|",
    ]
    for number, step in enumerate(draft.steps, 1):
        does = {
            "action": f"`{step.connector}.{step.operation}`{literal(action_target(step))}",
            "approval": f"approval by **{step.approver_role}**",
            "condition": f"if {code_span(step.condition or '')}",
            "human_task": f"task for {step.approver_role or 'a person'}",
        }[step.kind]
        notes = f"**blocked:** {literal(step.blocked_reason)}" if step.blocked_reason else ""
        lines.append(
            f"| {number} | {literal(step.title)} | {does} | {RISK_BADGE[step.risk]} | "
            f"{step.approver_role or ''} | {notes} |"
        )
    return "\n".join(lines)


def draft_elements(draft: WorkflowDraft) -> list[Any]:
    """Return the draft's diagram and source chips, to attach to the message showing it."""
    svg = base64.b64encode(workflow_svg(draft).encode()).decode()
    # A data URL rather than uploaded content: a reopened thread gets the diagram back from
    # its element dict alone, with no session file behind it (see ``resume``).
    elements: list[Any] = [
        cl.Image(
            name=f"workflow v{draft.version}",
            url=f"data:image/svg+xml;base64,{svg}",
            mime="image/svg+xml",
            display="inline",
        )
    ]
    if draft.sources:
        elements.append(source_chips(draft.sources))
    return elements


def draft_message(draft: WorkflowDraft, graph_thread: str) -> cl.Message:
    """Return the message showing ``draft`` of ``graph_thread``: table, diagram, sources."""
    return cl.Message(
        content=steps_table(draft),
        elements=draft_elements(draft),
        metadata=marker("draft", graph_thread, draft),
    )


def review_actions(request: ReviewRequest, graph_thread: str) -> list[cl.Action]:
    """Return the Approve / Edit / Reject buttons for ``request`` of ``graph_thread``.

    Each carries the content hash of what it was shown with: pressed under an older
    version, it is refused rather than applied to the newer one.
    """
    payload = {"thread": graph_thread, "content_hash": review_hash(request)}
    return [
        cl.Action(name=name, payload=payload, label=name.title())
        for name in ("approve", "edit", "reject")
    ]


def review_message(request: ReviewRequest, graph_thread: str) -> cl.Message:
    """Return the message offering the buttons for ``request`` of ``graph_thread``."""
    notes = [
        line
        for line in request.description.splitlines()
        if line.startswith(("Approval needed", "Blocked by policy", "Note:"))
    ]
    text = "\n".join(notes) or "Review the draft."
    return cl.Message(
        content=f"{safe_markdown(text)}\n\nApprove, edit (or type a change), or reject:",
        actions=review_actions(request, graph_thread),
        metadata=marker("review", graph_thread, request),
    )


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
    """Show each event of a turn of ``graph_thread``: steps, the draft, a review's buttons."""
    open_steps: dict[str, cl.Step] = {}
    holder: list[cl.Message] = []
    try:
        async for event in events:
            if event["type"] == "progress":
                if not holder:
                    # Steps hang under one message sent first, so they read before the draft.
                    holder.append(cl.Message(content="", author="Flowdraft"))
                    await holder[0].send()
                await render_progress(event, open_steps, holder[0].id)
            else:  # a new goal typed beside a draft is drafted on a thread of its own
                await render_event(event, str(event.get("thread") or graph_thread))
    except InputError as exc:
        await cl.Message(content=f"⚠️ {safe_markdown(str(exc))}").send()


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


async def render_event(event: dict[str, Any], graph_thread: str) -> None:
    """Show one event of ``graph_thread`` (which may not be this chat's thread)."""
    kind = event["type"]
    if kind == "draft":
        draft = WorkflowDraft.model_validate(event["workflow"])
        await draft_message(draft, graph_thread).send()
    elif kind == "review":
        await review_message(ReviewRequest.model_validate(event["request"]), graph_thread).send()
    elif kind == "message":
        await cl.Message(content=safe_markdown(event["text"])).send()
    elif kind == "error":
        await cl.Message(content=f"⚠️ {safe_markdown(event['message'])}").send()


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
    """Open a form over the steps; save renames and removals as a new version."""
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
    form = cl.CustomElement(
        name="StepsForm",
        props={"steps": [{"id": s.id, "title": s.title, "kind": s.kind} for s in current.steps]},
    )
    try:
        answer = await cl.AskElementMessage(
            content="Edit the steps, or describe a change:", element=form, timeout=900
        ).send()
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
