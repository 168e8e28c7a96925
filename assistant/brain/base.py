"""The ``Brain`` protocol: every reasoning step the graph asks for, offline or LLM-backed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from assistant.schemas import Intent, ReplyDraft, Source, Ticket, WorkflowDraft
from knowledge.retrieval import Passage

CHITCHAT_REPLY = (
    "I'm Flowdraft, the assistant for Northwind's business processes. I can draft a workflow "
    "for a process you describe (for example: 'every vendor invoice over $10,000 needs CFO "
    "sign-off; post a summary in #finance') for you to review, answer questions about our "
    "policies and playbooks, and draft replies to support tickets. Anything else is outside "
    "what I can help with."
)
"""The answer to thanks, goodbyes, questions about the assistant and off-topic requests."""


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
