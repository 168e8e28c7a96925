"""The default brain: embeddings, rules and playbook templates; no model, no network."""

from __future__ import annotations

from assistant.brain.base import CHITCHAT_REPLY, Answer, Revision
from assistant.brain.offline.answering import Quoter, answer_text, draft_reply
from assistant.brain.offline.drafting import draft_from_playbook
from assistant.brain.offline.revision import revise
from assistant.brain.offline.slots import extract_slots
from assistant.brain.offline.understanding import IntentClassifier, IntentGuess, PlaybookMatcher
from assistant.policy import Policy, load_policy
from assistant.schemas import Intent, ReplyDraft, Source, Ticket, WorkflowDraft
from knowledge.embeddings import Embedder
from knowledge.library import LibraryDoc
from knowledge.retrieval import Passage
from knowledge.screening import DocumentScreen, authority_first
from knowledge.text import terms

RISKY_CONFIDENCE = 0.9
"""How sure a request is a guarded action when policy recognises the action in its words."""


class OfflineBrain:
    """Understand, draft, revise and answer with no model and no network.

    Example:
        >>> from knowledge.library import load_library
        >>> from assistant.settings import Settings
        >>> brain = OfflineBrain(load_library(Settings().library), WordLlamaEmbedder())
        >>> import asyncio
        >>> asyncio.run(brain.classify("Vendor invoices over $10k need CFO sign-off")).kind
        'automate'
    """

    name = "offline"

    def __init__(
        self, library: list[LibraryDoc], embedding: Embedder, policy: Policy | None = None
    ) -> None:
        self.policy = policy or load_policy()
        self.playbooks = {d.slug: d for d in library if d.kind == "playbook"}
        self.matcher = PlaybookMatcher(list(self.playbooks.values()), embedding)
        vocabulary = {
            t for d in library for t in terms(f"{d.title} {d.body} {' '.join(d.examples)}")
        }
        self.classifier = IntentClassifier(self.matcher, embedding, vocabulary)
        self.quoter = Quoter(embedding, DocumentScreen(self.policy.injection))

    async def classify(self, text: str, *, has_draft: bool = False) -> Intent:
        """Return the intent of ``text``; a vague request gets a clarifying question."""
        guess = self.classifier.classify(text, has_draft=has_draft)
        if guess.kind in ("clarify", "chitchat") and self.policy.risky(text):
            # The risk itself is the request: draft it, so policy blocks or holds the action
            # in plain sight, naming the rule, instead of asking which playbook is meant.
            guess = IntentGuess("automate", RISKY_CONFIDENCE, guess.matches)
        slots = extract_slots(text)
        question = None
        missing: list[str] = []
        if guess.kind == "clarify":
            missing = ["process"]
            question = self.clarifying_question(text)
        return Intent(
            kind=guess.kind,
            confidence=round(guess.confidence, 3),
            slots=slots,
            missing=missing,
            question=question,
        )

    def clarifying_question(self, text: str) -> str:
        """Ask which process the user means, offering the closest playbooks."""
        close = [self.playbooks[m.slug].title for m in self.matcher.rank(text)[:3]]
        return (
            "Which process should I automate, and what should happen? For example: "
            f"{'; '.join(close)}. Tell me what starts it and who needs to approve or be told."
        )

    def choose_playbook(self, goal: str) -> LibraryDoc | None:
        """Return the playbook that fits ``goal`` well enough to draft from, if any."""
        # Only the playbook ranking is needed here, not the intent rules and example votes.
        best = IntentGuess("automate", 0.0, self.matcher.rank(goal.strip())).best
        return self.playbooks.get(best.slug) if best else None

    async def draft_workflow(
        self, goal: str, intent: Intent, passages: list[Passage]
    ) -> WorkflowDraft:
        """Fill the best playbook's template with the stated slots, citing the sources."""
        playbook = self.choose_playbook(goal)
        sources = [p.source() for p in passages]
        if playbook and not any(s.doc == playbook.doc for s in sources):
            sources.insert(0, Source(doc=playbook.doc, title=playbook.title, score=0.0))
        return draft_from_playbook(goal, playbook, intent.typed_slots, sources, self.policy)

    async def revise_workflow(self, draft: WorkflowDraft, instruction: str) -> Revision:
        """Apply the instruction language (see ``revision``) to ``draft``."""
        return revise(draft, instruction, self.policy)

    async def answer(self, question: str, passages: list[Passage]) -> Answer:
        """Answer by quoting the best passages."""
        if not question.strip():
            return Answer(CHITCHAT_REPLY)
        passages = authority_first(question, passages)
        return Answer(
            answer_text(question, passages, self.quoter), [p.source() for p in passages[:3]]
        )

    async def draft_reply(self, ticket: Ticket, passages: list[Passage]) -> ReplyDraft:
        """Draft a grounded reply, or route to a human when unsure or sensitive."""
        return draft_reply(ticket, passages, self.quoter)
