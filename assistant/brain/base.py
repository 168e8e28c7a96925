"""The ``Brain`` protocol: every reasoning step the graph asks for, offline or LLM-backed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from assistant.schemas import Intent, ReplyDraft, Source, Ticket, WorkflowDraft
from knowledge.retrieval import Passage


@dataclass
class Revision:
    """The outcome of revising: a new version, or a problem explained to the user."""

    draft: WorkflowDraft | None
    changes: list[str] = field(default_factory=list)
    problem: str | None = None


@dataclass
class Answer:
    """An answer to a question, with the documents it relied on."""

    text: str
    sources: list[Source] = field(default_factory=list)


@runtime_checkable
class Brain(Protocol):
    """Reasoning services the graph's nodes call; implementations must be side-effect free."""

    name: str

    async def classify(self, text: str, *, has_draft: bool = False) -> Intent:
        """Return the intent of ``text`` with its slots, missing slots and any question."""
        ...

    async def draft_workflow(
        self, goal: str, intent: Intent, passages: list[Passage]
    ) -> WorkflowDraft:
        """Draft version 1 of a workflow for ``goal``, grounded in ``passages``."""
        ...

    async def revise_workflow(self, draft: WorkflowDraft, instruction: str) -> Revision:
        """Return the next version of ``draft`` per ``instruction``, or explain the problem."""
        ...

    async def answer(self, question: str, passages: list[Passage]) -> Answer:
        """Answer ``question`` from ``passages`` with citations."""
        ...

    async def draft_reply(self, ticket: Ticket, passages: list[Passage]) -> ReplyDraft:
        """Draft a reply to ``ticket`` grounded in ``passages``, or route it to a human."""
        ...
