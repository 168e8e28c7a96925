"""The browser chat (Chainlit): it only translates events to messages and buttons to decisions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import chainlit as cl

from assistant.db.users import check_password, get_user
from assistant.db.versions import recent_threads
from assistant.diagram import workflow_svg
from assistant.review import action_target
from assistant.schemas import ReviewRequest, ReviewResponse, WorkflowDraft
from assistant.web import runtime
from assistant.web.history import build_data_layer
from graphs.runner import InputError
from knowledge.library import split_front_matter

RISK_BADGE = {"low": "low", "medium": "medium", "high": "**high**"}


@cl.data_layer
def history() -> Any:
    """Keep chat history in the app database, so threads survive a restart."""
    return build_data_layer(runtime.current().services.settings)


@cl.password_auth_callback
async def login(username: str, password: str) -> cl.User | None:
    """Log in against the users table (hashed passwords)."""
    user = get_user(runtime.current().services.engine, name=username.strip())
    if user is None or not check_password(password, user.password_hash):
        return None
    return cl.User(identifier=user.name, metadata={"roles": user.role_list})


def who() -> str:
    """Return the logged-in user's name."""
    user = cl.user_session.get("user")
    return str(getattr(user, "identifier", "anonymous"))


def thread_id() -> str:
    """Return the graph thread for this chat: the Chainlit thread id."""
    return str(cl.context.session.thread_id)


def steps_table(draft: WorkflowDraft) -> str:
    """Return the draft as a markdown table."""
    lines = [
        f"### {draft.title} — v{draft.version}",
        f"*Trigger:* {draft.trigger.kind} — {draft.trigger.detail}",
        "",
        "| # | step | does | risk | approver | notes |",
        "|---|---|---|---|---|---|",
    ]
    for number, step in enumerate(draft.steps, 1):
        does = {
            "action": f"`{step.connector}.{step.operation}`{action_target(step)}",
            "approval": f"approval by **{step.approver_role}**",
            "condition": f"if `{step.condition}`",
            "human_task": f"task for {step.approver_role or 'a person'}",
        }[step.kind]
        notes = f"**blocked:** {step.blocked_reason}" if step.blocked_reason else ""
        lines.append(
            f"| {number} | {step.title} | {does} | {RISK_BADGE[step.risk]} | "
            f"{step.approver_role or ''} | {notes} |"
        )
    return "\n".join(lines)


def source_elements(draft: WorkflowDraft) -> list[Any]:
    """Return the draft's sources as side elements the user can open."""
    library = runtime.current().services.settings.library
    elements: list[Any] = []
    for source in draft.sources:
        path = library / source.doc
        body = split_front_matter(path.read_text())[1] if path.exists() else source.title
        # Named by path: Chainlit links element names found in the message, and a title
        # would also match the draft's own heading.
        elements.append(cl.Text(name=source.doc, content=body, display="side"))
    return elements


STEP_NAMES = {
    "capture_intent": "Understanding the request",
    "retrieve_context": "Searching playbooks and policies",
    "draft_workflow": "Drafting the workflow",
    "revise_workflow": "Applying your change",
    "edit_workflow": "Applying your edit",
    "check_policy": "Checking policy",
    "approve": "Checking the approver's roles",
    "dispatch": "Running the approved actions",
    "answer": "Answering from the library",
    "draft_reply": "Drafting a reply",
}


async def render(events: AsyncIterator[dict[str, Any]]) -> None:
    """Show each event of a turn: steps while they run, the draft, buttons for a review."""
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
            else:
                await render_event(event)
    except InputError as exc:
        await cl.Message(content=f"⚠️ {exc}").send()


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
    step.output = event["summary"] or "done"
    await step.update()


async def render_event(event: dict[str, Any]) -> None:
    """Show one event."""
    kind = event["type"]
    if kind == "draft":
        draft = WorkflowDraft.model_validate(event["workflow"])
        diagram = cl.Image(
            name=f"workflow v{draft.version}",
            content=workflow_svg(draft).encode(),
            mime="image/svg+xml",
            display="inline",
        )
        sources = source_elements(draft)
        cited = ", ".join(s.doc for s in draft.sources)
        content = steps_table(draft) + (f"\n\nSources: {cited}" if cited else "")
        await cl.Message(content=content, elements=[diagram, *sources]).send()
    elif kind == "review":
        await show_review(ReviewRequest.model_validate(event["request"]))
    elif kind == "dispatched":
        lines = ["**Results**", ""]
        for result in event["results"]:
            lines.append(f"- `{result['step_id']}` **{result['status']}** — {result['detail']}")
        await cl.Message(content="\n".join(lines)).send()
    elif kind == "message":
        await cl.Message(content=event["text"]).send()
    elif kind == "error":
        await cl.Message(content=f"⚠️ {event['message']}").send()


async def show_review(request: ReviewRequest, thread: str | None = None) -> None:
    """Offer Approve / Edit / Reject for a pending review (of ``thread``, default this chat's)."""
    notes = [
        line
        for line in request.description.splitlines()
        if line.startswith(("Approval needed", "Blocked by policy", "Note:"))
    ]
    target = thread or thread_id()
    actions = [
        cl.Action(name="approve", payload={"thread": target}, label="Approve"),
        cl.Action(name="edit", payload={"thread": target}, label="Edit"),
        cl.Action(name="reject", payload={"thread": target}, label="Reject"),
    ]
    text = "\n".join(notes) or "Review the draft."
    await cl.Message(
        content=f"{text}\n\nApprove, edit (or type a change), or reject:", actions=actions
    ).send()


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
        state = await runner.state(thread)
        await cl.Message(content="This draft of yours is still waiting for review:").send()
        await render_event({"type": "draft", "workflow": state["workflow"]})
        await show_review(pending, thread)
        return


@cl.on_chat_resume
async def resume(thread: Any) -> None:
    """On reopening a thread, redraw its current draft, and its buttons if it waits for review."""
    graph_thread = str(thread.get("id") or thread_id())
    runner = runtime.current().runner
    pending = await runner.pending_review(graph_thread)
    if pending is None:
        return
    state = await runner.state(graph_thread)
    if state.get("workflow"):
        await render_event({"type": "draft", "workflow": state["workflow"]})
    await show_review(pending, graph_thread)


@cl.on_message
async def on_message(message: cl.Message) -> None:
    """Run a turn (or answer a pending review in plain words)."""
    runner = runtime.current().runner
    await render(runner.send_text(thread_id(), message.content, who(), progress=True))


async def decide(action: cl.Action, decision: ReviewResponse) -> None:
    """Send a decision for the thread the button belongs to."""
    thread = str(action.payload.get("thread") or thread_id())
    await render(runtime.current().runner.send_decision(thread, decision, progress=True))


@cl.action_callback("approve")
async def on_approve(action: cl.Action) -> None:
    """Approve the pending draft (the graph checks the user's roles)."""
    await decide(action, ReviewResponse(type="accept", user=who()))


@cl.action_callback("reject")
async def on_reject(action: cl.Action) -> None:
    """Reject the pending draft."""
    await decide(action, ReviewResponse(type="ignore", user=who()))


@cl.action_callback("edit")
async def on_edit(action: cl.Action) -> None:
    """Open a form over the steps; save renames and removals as a new version."""
    thread = str(action.payload.get("thread") or thread_id())
    state = await runtime.current().runner.state(thread)
    if not state.get("workflow"):
        return
    current = WorkflowDraft.model_validate(state["workflow"])
    form = cl.CustomElement(
        name="StepsForm",
        props={"steps": [{"id": s.id, "title": s.title, "kind": s.kind} for s in current.steps]},
    )
    answer = await cl.AskElementMessage(
        content="Edit the steps, or describe a change:", element=form, timeout=900
    ).send()
    if not answer or not answer.get("submitted"):
        return
    submitted: Any = answer.get("steps") or []
    edited = edited_steps(current, list(submitted))
    if edited is not None:
        args = {"workflow": {"steps": edited}}
        await decide(action, ReviewResponse(type="edit", args=args, user=who()))
    instruction = str(answer.get("instruction") or "").strip()
    if instruction:
        await decide(action, ReviewResponse(type="response", args=instruction, user=who()))


def edited_steps(
    current: WorkflowDraft, submitted: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """Return the full step list after the form's renames and removals, or None if unchanged."""
    by_id = {s.id: s for s in current.steps}
    steps = []
    for item in submitted:
        original = by_id.get(str(item.get("id")))
        if original is None:
            continue
        title = str(item.get("title") or original.title).strip() or original.title
        step = original.model_dump(mode="json", exclude={"id", "risk", "blocked_reason"})
        steps.append({**step, "title": title})
    unchanged = [s["title"] for s in steps] == [s.title for s in current.steps]
    return None if unchanged or not steps else steps
