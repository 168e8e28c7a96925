"""Drive the chat graph for any channel: text or decisions in, contract events out."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from langgraph.types import Command

from assistant.schemas import ReviewRequest, ReviewResponse, Ticket
from connectors.dispatcher import DispatchBusy
from graphs.context import Context

Event = dict[str, Any]
MAX_TEXT_CHARS = 20_000

APPROVE = re.compile(
    r"^\s*(approve[ds]?|accept(ed)?|yes|y|lgtm|ship it|go( ahead)?|looks good|ok(ay)?|confirm)"
    r"[\s.!]*$",
    re.IGNORECASE,
)
REJECT = re.compile(
    r"^\s*(reject(ed)?|decline[d]?|cancel|discard|no|n|ignore|stop|abort)[\s.!]*$", re.IGNORECASE
)


class InputError(ValueError):
    """Raised for input a channel must refuse: empty, oversized or malformed."""


class ThreadNotWaiting(InputError):
    """Raised when a decision arrives for a thread that is not waiting for one."""


def check_text(text: Any) -> str:
    """Return ``text`` stripped, or raise ``InputError`` saying what is wrong with it."""
    if not isinstance(text, str):
        raise InputError("text must be a string")
    stripped = text.strip()
    if not stripped:
        raise InputError("text is empty: describe a process to automate or ask a question")
    if len(stripped) > MAX_TEXT_CHARS:
        raise InputError(
            f"text is too long ({len(stripped):,} characters; the limit is {MAX_TEXT_CHARS:,})"
        )
    if "\x00" in stripped:
        raise InputError("text contains a NUL character")
    return stripped


def decision_from_text(text: str, user: str) -> ReviewResponse:
    """Read a typed reply to a pending review: approve, reject, or an edit in plain words."""
    if APPROVE.match(text):
        return ReviewResponse(type="accept", user=user)
    if REJECT.match(text):
        return ReviewResponse(type="ignore", user=user)
    return ReviewResponse(type="response", args=text, user=user)


class ChatRunner:
    """Run turns of the chat graph on durable threads and translate updates into events.

    Events follow DESIGN.md's ``chat --json`` contract: each has ``type`` and ``thread``.
    """

    def __init__(self, graph: Any, context: Context) -> None:
        self.graph = graph
        self.context = context
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def config(thread: str) -> dict[str, Any]:
        """Return the LangGraph config for ``thread``."""
        return {"configurable": {"thread_id": thread}}

    async def pending_review(self, thread: str) -> ReviewRequest | None:
        """Return the review ``thread`` is waiting on, or None."""
        pending = await self.pending(thread)
        return pending[1] if pending else None

    async def pending(self, thread: str) -> tuple[str, ReviewRequest] | None:
        """Return the id and request of the review ``thread`` is waiting on, or None."""
        return review_of(await self.graph.aget_state(self.config(thread)))

    async def unfinished(self, thread: str) -> bool:
        """Tell whether a run of ``thread`` stopped midway (a crash) and can be finished."""
        return is_unfinished(await self.graph.aget_state(self.config(thread)))

    async def resume(self, thread: str) -> AsyncIterator[Event]:
        """Finish a run that stopped midway, e.g. a dispatch cut off by a crash."""
        async with self._lock(thread):
            if not await self.unfinished(thread):
                raise InputError(f"thread {thread!r} has nothing unfinished to resume")
            async for event in self._stream(None, thread):
                yield event

    def claim(self, thread: str, review_id: str, decision: ReviewResponse) -> str:
        """Make this the only answer to the pending review, across processes; return its key."""
        key = f"{thread}:{review_id}"
        winner = self.context.journal.claim(
            key, thread=thread, user=decision.user, decision=decision.type
        )
        if winner is not None:
            raise ThreadNotWaiting(
                f"this review on thread {thread!r} was already answered by {winner}"
            )
        return key

    async def _answer(
        self, thread: str, key: str, command: Any, progress: bool = False
    ) -> AsyncIterator[Event]:
        """Resume with a claimed answer; if the run fails before it moves on, free the claim."""
        try:
            async for event in self._stream(command, thread, progress):
                yield event
        except BaseException:
            if await self.pending(thread) is not None:
                self.context.journal.release(key)
            raise

    async def state(self, thread: str) -> dict[str, Any]:
        """Return the thread's current state values (empty for an unknown thread)."""
        snapshot = await self.graph.aget_state(self.config(thread))
        return dict(snapshot.values or {})

    async def send_text(
        self, thread: str, text: str, user: str, *, progress: bool = False
    ) -> AsyncIterator[Event]:
        """Run a turn for ``text``; on a thread waiting for review, it is the reviewer's answer."""
        text = check_text(text)
        async with self._lock(thread):
            snapshot = await self.graph.aget_state(self.config(thread))
            async for event in self._finish_unfinished(thread, snapshot):
                yield event
            pending = await self.pending(thread) if is_unfinished(snapshot) else review_of(snapshot)
            if pending is not None:
                review_id, request = pending
                decision = decision_from_text(text, user)
                if decision.type == "response" and not request.config.allow_respond:
                    raise InputError(
                        "this review takes approve, reject or an edit of the text; "
                        "plain-language changes are not available here"
                    )
                key = self.claim(thread, review_id, decision)
                answer: Command[Any] = Command(resume=decision.model_dump(mode="json"))
                async for event in self._answer(thread, key, answer, progress):
                    yield event
                return
            command = {"text": text, "user": user, "thread": thread}
            async for event in self._stream(command, thread, progress):
                yield event

    async def send_decision(
        self, thread: str, decision: ReviewResponse, *, progress: bool = False
    ) -> AsyncIterator[Event]:
        """Resume ``thread`` with a reviewer's decision; refuse if it is not waiting."""
        async with self._lock(thread):
            snapshot = await self.graph.aget_state(self.config(thread))
            async for event in self._finish_unfinished(thread, snapshot):
                yield event
            pending = await self.pending(thread) if is_unfinished(snapshot) else review_of(snapshot)
            if pending is None:
                raise ThreadNotWaiting(f"thread {thread!r} is not waiting for a decision")
            review_id, request = pending
            allowed = {
                "accept": request.config.allow_accept,
                "edit": request.config.allow_edit,
                "response": request.config.allow_respond,
                "ignore": request.config.allow_ignore,
            }
            if not allowed[decision.type]:
                raise InputError(f"this review does not allow a '{decision.type}' decision")
            if decision.type == "response":
                check_text(decision.args)
            key = self.claim(thread, review_id, decision)
            command: Command[Any] = Command(resume=decision.model_dump(mode="json"))
            async for event in self._answer(thread, key, command, progress):
                yield event

    async def send_ticket(
        self, thread: str, ticket: Ticket, *, ref: str | None = None, user: str = "support-desk"
    ) -> AsyncIterator[Event]:
        """Run the reply path for a ticket: triage, retrieval, a grounded draft, then review.

        ``ref`` is the helpdesk reference (HD-12) the sent reply is noted on.
        """
        text = f"{ticket.subject}\n{ticket.body}"[:MAX_TEXT_CHARS]
        command = {
            "text": text,
            "ticket": ticket.model_dump(mode="json"),
            "ticket_ref": ref,
            "reply": None,
            "user": user,
            "thread": thread,
        }
        async with self._lock(thread):
            async for event in self._stream(command, thread):
                yield event

    async def _stream(
        self, command: Any, thread: str, progress: bool = False
    ) -> AsyncIterator[Event]:
        """Run the graph and yield contract events; with ``progress``, also node start/end.

        Progress events (``{"type": "progress", "node", "phase", "summary"}``) are for UIs
        that show each step while it runs; the JSON channel never asks for them.
        """
        config = self.config(thread)
        modes = ["updates", "tasks"] if progress else ["updates"]
        try:
            async for mode, data in self.graph.astream(
                command, config, context=self.context, stream_mode=modes
            ):
                if mode == "tasks":
                    yield {**progress_event(data), "thread": thread}
                    continue
                for node, update in data.items():
                    for event in events_for(node, update):
                        yield {**event, "thread": thread}
        except DispatchBusy as exc:
            raise InputError(
                f"{exc}; it will finish there (or run `flowdraft resume {thread}`)"
            ) from None

    async def _finish_unfinished(self, thread: str, snapshot: Any) -> AsyncIterator[Event]:
        if is_unfinished(snapshot):
            async for event in self._stream(None, thread):
                yield event

    def _lock(self, thread: str) -> asyncio.Lock:
        return self._locks.setdefault(thread, asyncio.Lock())


def review_of(snapshot: Any) -> tuple[str, ReviewRequest] | None:
    """Return the id and request of the review a state snapshot waits on, or None."""
    interrupts = getattr(snapshot, "interrupts", ()) or ()
    if not interrupts:
        return None
    return str(interrupts[0].id), ReviewRequest.model_validate(interrupts[0].value)


def is_unfinished(snapshot: Any) -> bool:
    """Tell whether a snapshot shows a run that stopped midway (nodes left, no review)."""
    return bool(snapshot.next) and not (getattr(snapshot, "interrupts", ()) or ())


def progress_event(task: dict[str, Any]) -> Event:
    """Turn a LangGraph task start/result into a progress event with a short summary."""
    node = str(task.get("name", ""))
    if "result" not in task:
        return {"type": "progress", "node": node, "phase": "start", "summary": ""}
    result = task.get("result")
    update = dict(result) if isinstance(result, dict) else dict(result or [])
    return {"type": "progress", "node": node, "phase": "end", "summary": summarize(node, update)}


def summarize(node: str, update: dict[str, Any]) -> str:
    """Say in one line what a node found or did."""
    if node == "capture_intent" and update.get("intent"):
        intent = update["intent"]
        slots = ", ".join(f"{k}: {v}" for k, v in intent["slots"].items()) or "none stated"
        return f"intent {intent['kind']} ({intent['confidence']:.2f}); slots: {slots}"
    if node == "retrieve_context":
        found = [f"{p['title']} ({p['score']:.2f})" for p in update.get("passages") or []]
        return "sources: " + ("; ".join(found) or "none")
    if node == "draft_workflow" and update.get("workflow"):
        workflow = update["workflow"]
        return f"drafted '{workflow['title']}' with {len(workflow['steps'])} steps"
    if node == "check_policy":
        roles = ", ".join(update.get("required_roles") or []) or "any team member"
        blocked = sum(
            1 for s in (update.get("workflow") or {}).get("steps", []) if s.get("blocked_reason")
        )
        return f"risk {update.get('risk')}; approval from {roles}; {blocked} step(s) blocked"
    if node == "dispatch":
        results = update.get("results") or []
        return ", ".join(f"{r['step_id']} {r['status']}" for r in results) or "nothing dispatched"
    return ""


def events_for(node: str, update: Any) -> list[Event]:
    """Translate one node's state update into contract events."""
    if node == "__interrupt__":
        return [{"type": "review", "request": item.value} for item in update]
    if not isinstance(update, dict):
        return []
    events: list[Event] = []
    if node == "capture_intent":
        events.append({"type": "intent", "intent": update["intent"]})
    if node == "check_policy":
        events.append({"type": "draft", "workflow": update["workflow"]})
    if node in ("dispatch", "send_reply"):
        events.append({"type": "dispatched", "results": update["results"]})
    message = update.get("message")
    if message:
        event: Event = {"type": "message", "text": message["text"]}
        if message.get("sources"):
            event["sources"] = message["sources"]
        events.append(event)
    return events
