"""The chat graph's nodes: each reads state, calls one service and returns a partial update."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from assistant.brain.offline import CHITCHAT_REPLY
from assistant.review import EditError, apply_edit, reply_review, workflow_review
from assistant.schemas import Customer, Intent, ReplyDraft, ReviewResponse, Ticket, WorkflowDraft
from connectors.dispatcher import Dispatcher
from graphs.context import Context
from graphs.state import ChatState
from knowledge.retrieval import QUESTION_BOOST, Passage

KINDS_BY_INTENT = {
    "automate": ["playbook", "policy"],
    "question": None,
    "reply": ["faq", "policy"],
}
TURN_RESET: dict[str, Any] = {
    "decision": None,
    "results": [],
    "message": None,
    "notice": None,
}


def message(text: str, sources: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the ``message`` state value for a text shown to the user."""
    return {"text": text, "sources": sources or []}


def current_workflow(state: ChatState) -> WorkflowDraft:
    """Return the thread's current draft."""
    return WorkflowDraft.model_validate(state["workflow"])


async def capture_intent(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Classify the user's text; after a clarifying question, read it with the original goal."""
    text = state["text"]
    pending = state.get("pending_goal")
    goal = f"{pending} {text}" if pending else text
    intent = await runtime.context.brain.classify(goal, has_draft=bool(state.get("workflow")))
    if pending and intent.kind != "automate":
        # The answer did not complete the earlier request; treat it as a fresh turn.
        goal = text
        intent = await runtime.context.brain.classify(text, has_draft=bool(state.get("workflow")))
    return {
        **TURN_RESET,
        "goal": goal,
        "intent": intent.model_dump(mode="json"),
        "pending_goal": goal if intent.kind == "clarify" else None,
    }


async def retrieve_context(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Find library passages for the goal (playbooks and policies, FAQ for tickets)."""
    kind = state["intent"]["kind"]
    retriever = runtime.context.retriever
    boost = QUESTION_BOOST if kind == "question" else None
    passages = retriever.search(
        state["goal"], kinds=KINDS_BY_INTENT.get(kind), k=runtime.context.sources_k, boost=boost
    )
    passages = retriever.with_documents(passages, top=2)
    return {"passages": [asdict(p) for p in passages]}


def passages_of(state: ChatState) -> list[Passage]:
    """Return the retrieved passages from state."""
    return [Passage(**p) for p in state.get("passages") or []]


async def draft_workflow(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Draft version 1 of the workflow."""
    intent = Intent.model_validate(state["intent"])
    draft = await runtime.context.brain.draft_workflow(state["goal"], intent, passages_of(state))
    return {"workflow": draft.model_dump(mode="json"), "approved_by": None}


async def check_policy(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Mark every step with risk, approver role and blocked reason; keep the version."""
    checked = runtime.context.policy.check(current_workflow(state))
    versions = [v for v in state.get("versions") or [] if v["id"] != checked.id]
    history = [v for v in state.get("versions") or [] if v["id"] == checked.id]
    dumped = checked.model_dump(mode="json")
    return {"workflow": dumped, "versions": [*versions, *history, dumped]}


async def review(state: ChatState) -> dict[str, Any]:
    """Pause for a person to accept, edit, answer or reject the draft."""
    request = workflow_review(current_workflow(state), state.get("notice"))
    answer = interrupt(request.model_dump(mode="json"))
    decision = ReviewResponse.model_validate(answer)
    return {"decision": decision.model_dump(mode="json"), "notice": None, "message": None}


async def revise_workflow(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Make the next version from a plain-language instruction, or explain what went wrong."""
    decision = state.get("decision") or {}
    instruction = decision.get("args") if decision.get("type") == "response" else state["text"]
    revision = await runtime.context.brain.revise_workflow(
        current_workflow(state), str(instruction)
    )
    if revision.draft is None:
        return {"notice": revision.problem, "message": message(revision.problem or "")}
    summary = "; ".join(revision.changes)
    return {
        "workflow": revision.draft.model_dump(mode="json"),
        "notice": f"v{revision.draft.version}: {summary}" if summary else None,
    }


async def edit_workflow(state: ChatState) -> dict[str, Any]:
    """Apply a reviewer's structured edit as a new version."""
    decision = ReviewResponse.model_validate(state["decision"])
    try:
        draft = apply_edit(current_workflow(state), decision.args)
    except EditError as exc:
        return {"notice": str(exc), "message": message(f"That edit was not applied: {exc}")}
    return {
        "workflow": draft.model_dump(mode="json"),
        "notice": f"v{draft.version}: edited by {decision.user}",
    }


async def dispatch(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Perform the approved draft's actions through the connectors."""
    draft = current_workflow(state)
    results = await Dispatcher(runtime.context.registry).dispatch(draft, thread=state["thread"])
    decision = state.get("decision") or {}
    return {
        "results": [r.model_dump(mode="json") for r in results],
        "approved_by": decision.get("user"),
    }


async def report(state: ChatState) -> dict[str, Any]:
    """Summarise what dispatch did."""
    results = state.get("results") or []
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    title = (state.get("workflow") or {}).get("title", "workflow")
    who = state.get("approved_by") or "a reviewer"
    return {"message": message(f"Approved by {who} and dispatched '{title}': {parts}.")}


async def discard(state: ChatState) -> dict[str, Any]:
    """Close the review without doing anything."""
    decision = state.get("decision") or {}
    who = decision.get("user", "the reviewer")
    return {"message": message(f"Rejected by {who}; nothing was dispatched.")}


async def answer(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Answer a question from the retrieved passages, with citations."""
    reply = await runtime.context.brain.answer(state["goal"], passages_of(state))
    return {"message": message(reply.text, [s.model_dump(mode="json") for s in reply.sources])}


async def clarify(state: ChatState) -> dict[str, Any]:
    """Ask the one question the request needs before it can be drafted."""
    question = state["intent"].get("question") or "Could you tell me more about what to automate?"
    return {"message": message(question)}


async def small_talk(state: ChatState) -> dict[str, Any]:
    """Say what the assistant does."""
    return {"message": message(CHITCHAT_REPLY)}


async def no_draft(state: ChatState) -> dict[str, Any]:
    """Explain that there is nothing to edit yet."""
    return {
        "message": message(
            "There is no draft in this conversation to change yet. Describe the process you "
            "want to automate first, for example: 'route vendor invoices over $10,000 to the CFO'."
        )
    }


async def draft_reply(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Draft a reply to the ticket in the user's text."""
    ticket = Ticket.model_validate(state.get("ticket") or ticket_from_text(state))
    reply = await runtime.context.brain.draft_reply(ticket, passages_of(state))
    return {"ticket": ticket.model_dump(mode="json"), "reply": reply.model_dump(mode="json")}


def ticket_from_text(state: ChatState) -> dict[str, Any]:
    """Make a ticket of a pasted customer message."""
    text = state["goal"]
    first = text.strip().splitlines()[0][:120]
    return Ticket(
        id=f"chat-{state['thread']}",
        subject=first,
        body=text,
        customer=Customer(email="customer@unknown.invalid"),
    ).model_dump(mode="json")


async def review_reply(state: ChatState) -> dict[str, Any]:
    """Pause for an agent to accept, edit or reject the drafted reply."""
    ticket = Ticket.model_validate(state["ticket"])
    request = reply_review(ticket, ReplyDraft.model_validate(state["reply"]))
    decision = ReviewResponse.model_validate(interrupt(request.model_dump(mode="json")))
    return {"decision": decision.model_dump(mode="json")}


async def send_reply(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Email the (possibly edited) reply to the customer."""
    ticket = Ticket.model_validate(state["ticket"])
    reply = ReplyDraft.model_validate(state["reply"])
    decision = state.get("decision") or {}
    body = reply.body
    if decision.get("type") == "edit":
        args = decision.get("args") or {}
        body = str(args.get("body") or (args.get("reply") or {}).get("body") or body)
    email = runtime.context.registry.get("email")
    outcome = await email.execute(
        "send_email",
        {"to": [ticket.customer.email], "subject": f"Re: {ticket.subject}", "body": body},
        f"{state['thread']}:reply:{ticket.id}",
    )
    results = [{"step_id": "reply", "status": outcome.status, "detail": outcome.detail}]
    return {
        "results": results,
        "message": message(f"Reply to ticket {ticket.id}: {outcome.status}."),
    }
