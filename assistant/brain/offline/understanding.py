"""Decide what a request is (intent) and which playbook fits, from embeddings plus lexical cues."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.brain.offline.matching import (
    PROCESS_MASS,
    PlaybookMatch,
    PlaybookMatcher,
    load_examples,
)
from assistant.brain.offline.revision import looks_like_instruction
from assistant.brain.offline.scope import (
    ASKS_FOR_AUTOMATION,
    is_social,
    process_terms,
    unknown_share,
)
from assistant.brain.offline.slots import extract_slots
from assistant.schemas import IntentKind
from knowledge.embeddings import Embedder
from knowledge.text import terms

PLAYBOOK_MIN_SCORE = 0.30
"""Below this a request matches no playbook well enough to draft from it."""

CLEAR_SCORE = 0.5
MIN_MARGIN = 0.03
"""A match under ``CLEAR_SCORE`` that is within ``MIN_MARGIN`` of the runner-up is a tie."""

INCIDENTAL_DENSE = 0.33
"""Similarity to a playbook's examples under which one naming word alone names no process:
"catch you later" uses a word of loan applications ("later") and means nothing of them."""

OFF_TOPIC_SHARE = 0.5
"""Share of words the library never uses at which a request is about something else."""

GREETING = re.compile(
    r"^\s*(hi|hey|hello|yo|hiya|howdy|good (morning|afternoon|evening)|thanks?( you)?( so much)?|"
    r"thx|ty|cheers|ok(ay)?( cool| thanks)?|cool|great|nice|bye|goodbye|see you|"
    r"who are you|what are you|what can you do|help)\W*$",
    re.IGNORECASE,
)
REPLY_CUE = re.compile(
    r"\b(draft|write|suggest|prepare)\s+(a\s+|an\s+)?(reply|response|answer)\b|"
    r"\breply to (this|the|a) (ticket|customer|email)\b|\bcustomer (writes|wrote|says|said):",
    re.IGNORECASE,
)
QUESTION_START = re.compile(
    r"^\s*(what|what's|whats|which|who|who's|whom|whose|where|why|how|is|are|was|were|do|does|"
    r"did|may|am|should|must|can|could|explain|tell me|describe|list|show me the (rules|policy)|"
    r"i (wonder|want to know)|quick question)\b",
    re.IGNORECASE,
)
AUTOMATION_CUE = re.compile(
    r"\b(automat\w*|set ?up|build|create|make|wire up|orchestrate|workflow|flow|pipeline|"
    r"whenever|every time|each time|as soon as|once a|when(ever)? (a|an|the|someone|somebody|"
    r"anyone|we|they|our|new|customer|employee|vendor|ticket|invoice|lead)\b|route|routing|"
    r"notify|alert|page|post\w*|send\w*|e?mail\w*|escalate|remind|forward\w*|assign|queue|sync|"
    r"should (go|get|be|need|have)|needs? (to )?(go|get|be)|must (go|get|be)|has to (go|be)|"
    r"have to (go|be)|i want|i'd like|we want|we need|i need|handle|triage|monitor|process|"
    r"auto[- ]?\w+|pls|please)\b",
    re.IGNORECASE,
)
CAN_YOU = re.compile(
    r"\b(can|could|would|will)\s+(you|we|flowdraft|u)\b(?!\s+(tell|explain|remind me|say|"
    r"confirm|clarify))",
    re.IGNORECASE,
)
WH_START = re.compile(r"^\s*(what|what's|which|who|who's|whom|whose|where|why|how)\b", re.I)
STEP_REFERENCE = re.compile(
    r"\bstep\s*#?\d|\bs\d+\b|\bthe\s+(first|second|third|fourth|fifth|sixth|last|slack|email|"
    r"webhook|approval)\s+step\b|\binstead\b|\bthreshold\b",
    re.IGNORECASE,
)
VAGUE = re.compile(
    r"\b(this|that|it|the (thing|stuff|usual|process|one)|something|stuff|things)\b",
    re.IGNORECASE,
)


DRAFT_REFERENCE = re.compile(
    r"\b(it|this|that|them|the (draft|workflow|flow|process|steps?|reply|message|text))\b",
    re.IGNORECASE,
)


def refers_to_draft(text: str) -> bool:
    """Tell whether ``text`` is an instruction about the draft at hand ("make it shorter").

    A question, a greeting or thanks refers to something else even when it says "it".
    """
    if text.endswith("?") or QUESTION_START.match(text) or is_social(text):
        return False
    return bool(DRAFT_REFERENCE.search(text))


@dataclass(frozen=True)
class IntentGuess:
    """The intent kind with a confidence, and the playbook ranking behind it."""

    kind: IntentKind
    confidence: float
    matches: list[PlaybookMatch]

    @property
    def best(self) -> PlaybookMatch | None:
        """Return the best playbook if it fits well, and clearly better than the runner-up."""
        if not self.matches or self.matches[0].score < PLAYBOOK_MIN_SCORE:
            return None
        top = self.matches[0]
        tied = len(self.matches) > 1 and top.score - self.matches[1].score < MIN_MARGIN
        if tied and top.score < CLEAR_SCORE:
            return None
        return top


def automate_confidence(matches: list[PlaybookMatch]) -> float:
    """Return how sure a draft request is, from how well and how clearly its playbook fits."""
    top = matches[0].score
    margin = top - matches[1].score if len(matches) > 1 else top
    return round(min(0.99, 0.55 + 0.5 * top + 1.5 * margin), 3)


class IntentClassifier:
    """Classify a turn: rules for the unambiguous cases, example voting for the rest."""

    def __init__(
        self, matcher: PlaybookMatcher, embedding: Embedder, vocabulary: set[str] | None = None
    ) -> None:
        self.matcher = matcher
        self.embedding = embedding
        self.vocabulary = vocabulary if vocabulary is not None else set(matcher.idf)
        """Every word the library uses: a request mostly made of other words is off-topic."""
        intents: dict[str, list[str]] = load_examples().get("intents", {})
        self.example_kinds: list[str] = []
        texts: list[str] = []
        for kind, phrases in intents.items():
            for phrase in phrases:
                self.example_kinds.append(kind)
                texts.append(phrase)
        self.example_matrix = embedding.embed(texts)

    def vote(self, text: str) -> dict[str, float]:
        """Return the mean similarity of ``text`` to the top-3 examples of each kind."""
        sims = self.example_matrix @ self.embedding.embed([text])[0]
        by_kind: dict[str, list[float]] = {}
        for kind, sim in zip(self.example_kinds, sims, strict=True):
            by_kind.setdefault(kind, []).append(float(sim))
        return {k: float(np.mean(sorted(v, reverse=True)[:3])) for k, v in by_kind.items()}

    def classify(self, text: str, *, has_draft: bool = False) -> IntentGuess:
        """Return the intent of ``text``; ``has_draft`` makes edit instructions likelier."""
        stripped = text.strip()
        matches = self.matcher.rank(stripped)
        if GREETING.match(stripped):
            return IntentGuess("chitchat", 0.95, matches)
        if REPLY_CUE.search(stripped):
            return IntentGuess("reply", 0.9, matches)
        if looks_like_instruction(stripped) and (has_draft or STEP_REFERENCE.search(stripped)):
            return IntentGuess("revise", 0.9 if has_draft else 0.6, matches)
        votes = self.vote(stripped)
        best = IntentGuess("automate", 0.0, matches).best
        process = process_terms(stripped)
        names_process = self.names_process(process, matches)
        if has_draft and refers_to_draft(stripped) and not names_process:
            # "make it pop" beside a waiting draft is an edit of it, understood or not.
            return IntentGuess("revise", 0.7, matches)
        if self.is_small_talk(stripped, process, votes, names_process=names_process):
            return IntentGuess("chitchat", 0.9, matches)
        if self.is_question(stripped, votes):
            return IntentGuess("question", 0.9, matches)
        words = terms(stripped)
        details = extract_slots(stripped).stated()
        if len(words) <= 1 and not details and votes.get("chitchat", 0) > votes.get("automate", 0):
            return IntentGuess("chitchat", 0.6, matches)
        several = best is not None and self.matcher.rival(process, matches) is not None
        if best is not None and names_process and not several and not self.is_vague(stripped, best):
            return IntentGuess("automate", automate_confidence(matches), matches)
        if process and self.has_concrete_action(stripped):
            # A small ask with a destination ("post the ticket summary in #support") is drafted
            # as asked even when it is no playbook; a destination alone names no process.
            return IntentGuess("automate", 0.6, matches)
        return IntentGuess("clarify", 0.85, matches)

    def names_process(self, process: list[str], matches: list[PlaybookMatch]) -> bool:
        """Tell whether a request's own words name a process, not just share one word with it.

        One naming word counts only when the request as a whole reads like the playbook
        (``INCIDENTAL_DENSE``); two naming words of the best playbook count on their own.
        """
        if self.matcher.process_evidence(process) < PROCESS_MASS:
            return False
        if not matches:
            return True
        top = matches[0]
        named = set(process) & self.matcher.core_sets.get(top.slug, set())
        return len(named) >= 2 or top.dense >= INCIDENTAL_DENSE

    def is_small_talk(
        self, text: str, process: list[str], votes: dict[str, float], *, names_process: bool
    ) -> bool:
        """Tell small talk and requests outside the company's processes from work requests.

        Thanks, goodbyes and questions about the assistant are small talk unless they also
        name a process; so is a request that asks for no automation, states no detail, and
        whose own words are mostly ones the library never uses (one familiar word, "order"
        or "time", does not make ordering pizza a business process).
        """
        if is_social(text):
            return not names_process
        if ASKS_FOR_AUTOMATION.search(text):
            return False
        share = unknown_share(process, self.vocabulary)
        if extract_slots(text).stated():
            # A day or an amount says when or how much, not what: booking a flight "on
            # Tuesday" is still outside the company's processes.
            return not names_process and share >= OFF_TOPIC_SHARE and len(set(process)) >= 2
        if share >= OFF_TOPIC_SHARE:
            return True
        top = max(votes, key=lambda k: votes[k], default="")
        return not names_process and share > 0 and top == "chitchat"

    @staticmethod
    def is_question(text: str, votes: dict[str, float]) -> bool:
        """Tell a question about how things work from a request to automate them."""
        asks = text.endswith("?") or bool(QUESTION_START.match(text))
        if not asks:
            return False
        if CAN_YOU.search(text) and not WH_START.match(text):
            return False
        if QUESTION_START.match(text) and re.match(
            r"^\s*(is|are|do|does)\s+(there|it|we)\s+(a )?(way|possible|able)\b", text, re.I
        ):
            return False
        if re.match(
            r"^\s*how (do|can|could|would) (i|we|you) (automate|set ?up|build)\b", text, re.I
        ):
            return False
        cue = AUTOMATION_CUE.search(text)
        if not QUESTION_START.match(text) and cue:
            return votes.get("question", 0) > votes.get("automate", 0) + 0.05
        return True

    @staticmethod
    def is_vague(text: str, best: PlaybookMatch | None) -> bool:
        """Tell whether a request leans on context the assistant does not have."""
        content = [
            t for t in terms(text) if t not in {"automat", "workflow", "flow", "set", "setup"}
        ]
        if best is not None and best.lexical >= 0.34:
            return False
        return len(content) <= 3 and bool(VAGUE.search(text))

    @staticmethod
    def has_concrete_action(text: str) -> bool:
        """Tell whether a request names a destination (channel, email) to act on."""
        return bool(re.search(r"(?<!\w)#[a-z]|@[\w-]+\.\w", text, re.IGNORECASE)) and bool(
            AUTOMATION_CUE.search(text)
        )
