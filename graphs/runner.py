"""Drive the chat graph for any channel: text or decisions in, contract events out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from langgraph.types import Command

from assistant.review import review_hash, stale_reason
from assistant.schemas import ReviewRequest, ReviewResponse, Ticket
from graphs.context import Context
from graphs.events import Event, events_for, progress_event
from graphs.offers import review_request_of
from graphs.typed import decision_from_text, is_aside, still_waiting

MAX_TEXT_CHARS = 20_000

DRAFT_EVENTS = ("draft", "review")
"""Events that belong to the thread holding the draft they show, wherever it was asked for."""


class InputError(ValueError):
    """Raised for input a channel must refuse: empty, oversized or malformed."""


class ThreadNotWaiting(InputError):
    """Raised when a decision arrives for a thread that is not waiting for one."""


class StaleDecision(InputError):
    """Raised when a decision names another version than the one waiting for review."""


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
        """Finish a run that stopped midway, e.g. an activation or reply cut off by a crash."""
        async with self._lock(thread):
            if not await self.unfinished(thread):
                raise InputError(f"thread {thread!r} has nothing unfinished to resume")
            async for event in self._stream(None, thread):
                yield event

    async def claim_off_loop(
        self, thread: str, review_id: str, request: ReviewRequest, decision: ReviewResponse
    ) -> str:
        """Check the decision's version and claim the review in a worker thread (database I/O)."""
        await asyncio.to_thread(self.check_version, thread, request, decision)
        return await asyncio.to_thread(self.claim, thread, review_id, decision)

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

    def check_version(self, thread: str, request: ReviewRequest, decision: ReviewResponse) -> None:
        """Refuse, before it claims the review, a decision made on another version.

        The graph checks again; refusing here also covers reviews of replies and keeps a
        stale click from holding the review another person is answering.
        """
        stale = stale_reason(request, decision)
        if stale is None:
            return
        self.context.journal.event(
            "decision_refused",
            actor=decision.user,
            thread=thread,
            content_hash=review_hash(request),
            type=decision.type,
            reason=stale,
        )
        raise StaleDecision(stale)

    async def _answer(
        self, thread: str, key: str, command: Any, progress: bool = False
    ) -> AsyncIterator[Event]:
        """Resume with a claimed answer; if the run fails before it moves on, free the claim."""
        try:
            async for event in self._stream(command, thread, progress):
                yield event
        except BaseException:
            if await self.pending(thread) is not None:
                await asyncio.to_thread(self.context.journal.release, key)
            raise

    async def state(self, thread: str) -> dict[str, Any]:
        """Return the thread's current state values (empty for an unknown thread)."""
        snapshot = await self.graph.aget_state(self.config(thread))
        return dict(snapshot.values or {})

    async def send_text(
        self,
        thread: str,
        text: str,
        user: str,
        *,
        progress: bool = False,
        shown: str | None = None,
    ) -> AsyncIterator[Event]:
        """Run a turn for ``text``; on a thread waiting for review, it answers that review.

        Unless it is an aside (a question, small talk, a new goal; see ``graphs.typed``),
        which is answered on another thread while the review keeps waiting. ``shown`` is the
        content hash of the version the text was typed under (default: the one waiting).
        """
        text = check_text(text)
        async with self._lock(thread):
            snapshot = await self.graph.aget_state(self.config(thread))
            async for event in self._finish_unfinished(thread, snapshot):
                yield event
            pending = await self.pending(thread) if is_unfinished(snapshot) else review_of(snapshot)
            if pending is not None:
                review_id, request = pending
                if await is_aside(text, self.context.brain):
                    async for event in self._aside(thread, text, user, request, progress):
                        yield event
                    return
                # Typed under the version shown (by default the one waiting): it answers that
                # version and no other.
                decision = decision_from_text(text, user, shown or review_hash(request))
                if decision.type == "response" and not request.config.allow_respond:
                    raise InputError(
                        "this review takes approve, reject or an edit of the text; "
                        "plain-language changes are not available here"
                    )
                key = await self.claim_off_loop(thread, review_id, request, decision)
                answer: Command[Any] = Command(resume=decision.model_dump(mode="json"))
                async for event in self._answer(thread, key, answer, progress):
                    yield event
                return
            command = {"text": text, "user": user, "thread": thread}
            async for event in self._stream(command, thread, progress):
                yield event

    async def answers_review(self, thread: str, text: str) -> bool:
        """Tell whether ``text`` typed on ``thread`` would answer the review it waits on."""
        try:
            text = check_text(text)
        except InputError:
            return False
        pending = await self.pending_review(thread)
        return pending is not None and not await is_aside(text, self.context.brain)

    async def _aside(
        self, thread: str, text: str, user: str, request: ReviewRequest, progress: bool
    ) -> AsyncIterator[Event]:
        """Answer text that is not for the waiting review on another thread; keep the review.

        A question or small talk is answered as said on ``thread``. A new goal is drafted
        on the other thread, whose draft and review events name it, so decisions on it go
        there; the review of ``thread`` stays answerable.
        """
        other = await self.free_thread(thread)
        async with self._lock(other):
            command = {"text": text, "user": user, "thread": other}
            async for event in self._stream(command, other, progress):
                yield event if event["type"] in DRAFT_EVENTS else {**event, "thread": thread}
            drafted = await self.pending(other) is not None
        text = still_waiting(request, thread, other if drafted else None)
        yield {"type": "message", "text": text, "thread": thread}

    async def free_thread(self, thread: str) -> str:
        """Return the first thread ``<thread>+N`` (N from 2) that holds no draft."""
        number = 2
        while (await self.state(f"{thread}+{number}")).get("workflow"):
            number += 1
        return f"{thread}+{number}"

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
            key = await self.claim_off_loop(thread, review_id, request, decision)
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
        # "sync": each step's checkpoint is written before the next step starts, so a
        # process killed midway leaves the thread at the last step that finished.
        async for mode, data in self.graph.astream(
            command, config, context=self.context, stream_mode=modes, durability="sync"
        ):
            if mode == "tasks":
                yield {**progress_event(data), "thread": thread}
                continue
            for node, update in data.items():
                for event in events_for(node, update):
                    yield {**event, "thread": thread}

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
    return str(interrupts[0].id), ReviewRequest.model_validate(
        review_request_of(interrupts[0].value)
    )


def is_unfinished(snapshot: Any) -> bool:
    """Tell whether a snapshot shows a run that stopped midway (nodes left, no review)."""
    return bool(snapshot.next) and not (getattr(snapshot, "interrupts", ()) or ())
