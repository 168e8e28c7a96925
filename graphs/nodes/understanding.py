"""Nodes that understand the turn: intent, retrieval, answers, clarifying questions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from assistant.brain.base import CHITCHAT_REPLY
from assistant.schemas import Intent
from graphs.context import Context
from graphs.nodes.common import message, passages_of, record
from graphs.resumes import authenticated_user
from graphs.state import ChatState
from knowledge.retrieval import QUESTION_BOOST

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


async def capture_intent(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Classify the user's text; after a clarifying question, read it with the original goal."""
    heard = from_messages(state)
    state = {**state, **heard}  # type: ignore[typeddict-item]
    text = state["text"]
    if state.get("ticket") and not state.get("reply"):
        # A ticket handed in by the support desk: its intent is known, only a reply is wanted.
        await record(
            runtime.context.journal,
            "intent",
            actor=state["user"],
            thread=state["thread"],
            kind="reply",
            slots={},
        )
        return {
            **TURN_RESET,
            "goal": text,
            "intent": Intent(kind="reply", confidence=1.0).model_dump(mode="json"),
            "pending_goal": None,
        }
    pending = state.get("pending_goal")
    goal = f"{pending} {text}" if pending else text
    intent = await runtime.context.brain.classify(goal, has_draft=bool(state.get("workflow")))
    if pending and intent.kind != "automate":
        # The answer did not complete the earlier request; treat it as a fresh turn.
        goal = text
        intent = await runtime.context.brain.classify(text, has_draft=bool(state.get("workflow")))
    await record(
        runtime.context.journal,
        "intent",
        actor=state["user"],
        thread=state["thread"],
        kind=intent.kind,
        slots=intent.slots,
    )
    return {
        **heard,
        **TURN_RESET,
        "goal": goal,
        "intent": intent.model_dump(mode="json"),
        "pending_goal": goal if intent.kind == "clarify" else None,
    }


def from_messages(state: ChatState) -> dict[str, Any]:
    """Read a new human chat message (Agent Chat UI's input) as this turn's text.

    The thread is the run's ``thread_id`` and the user is the one LangGraph Server
    authenticated; with neither, the state's values stay. No new message: no change.
    """
    messages = list(state.get("messages") or [])
    if len(messages) <= (state.get("heard") or 0) or not messages:
        return {}
    last = messages[-1]
    if field_of(last, "type") not in ("human", "user") and field_of(last, "role") != "user":
        return {"heard": len(messages)}
    configurable = get_config().get("configurable") or {}
    return {
        "heard": len(messages),
        "text": text_of(field_of(last, "content")),
        "thread": str(configurable.get("thread_id") or state.get("thread") or ""),
        "user": authenticated_user() or state.get("user") or "anonymous",
    }


def field_of(message: Any, name: str) -> Any:
    """Return a message's field, whether it is a dict or a LangChain message object."""
    return message.get(name) if isinstance(message, dict) else getattr(message, name, None)


def text_of(content: Any) -> str:
    """Return a message's text: a string, or the text blocks of a content list."""
    if isinstance(content, str):
        return content
    blocks = content if isinstance(content, list) else []
    return " ".join(
        str(b.get("text", "")) if isinstance(b, dict) else str(b)
        for b in blocks
        if not isinstance(b, dict) or b.get("type", "text") == "text"
    )


def retrieve_context(state: ChatState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Find library passages for the goal (playbooks and policies, FAQ for tickets).

    A plain function: the graph runs it in a worker thread, off the event loop (Chroma).
    """
    kind = state["intent"]["kind"]
    retriever = runtime.context.retriever
    boost = QUESTION_BOOST if kind == "question" else None
    passages = retriever.search(
        state["goal"], kinds=KINDS_BY_INTENT.get(kind), k=runtime.context.sources_k, boost=boost
    )
    passages = retriever.with_documents(passages, top=2)
    return {"passages": [asdict(p) for p in passages]}


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
