"""Rank playbooks for a request: example similarity, vocabulary overlap, naming words."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from knowledge.embeddings import Embedder
from knowledge.library import LibraryDoc
from knowledge.text import idf_table, overlap, terms

EXAMPLES_FILE = Path(__file__).with_name("examples.yaml")

DISTINCTIVE_MASS = 2.5
"""Matched idf mass at which lexical evidence counts fully (one term unique to a playbook)."""

PROCESS_MASS = 1.3
"""Idf mass of a playbook's naming words a request must use, beyond its details, to name a
process: one word shared by at most four playbooks, or two broader ones ("approvals", which
five playbooks share, names none)."""
SHORT_REQUEST = 3
"""Process words up to which a request naming two playbooks clearly is asked about."""
RIVAL_GAP = 0.25
"""Score gap under which the runner-up is still a candidate."""


@lru_cache(maxsize=1)
def load_examples() -> dict[str, Any]:
    """Load the labelled intent examples and the per-playbook vocabulary."""
    return yaml.safe_load(EXAMPLES_FILE.read_text()) or {}


@dataclass(frozen=True)
class PlaybookMatch:
    """A playbook and how well a request fits it (0..1)."""

    slug: str
    score: float
    dense: float
    lexical: float


class PlaybookMatcher:
    """Rank playbooks for a request by example similarity and vocabulary overlap."""

    def __init__(self, playbooks: list[LibraryDoc], embedding: Embedder) -> None:
        self.playbooks = {doc.slug: doc for doc in playbooks}
        self.embedding = embedding
        vocabulary: dict[str, list[str]] = load_examples().get("vocabulary", {})
        self.slugs: list[str] = []
        texts: list[str] = []
        self.term_sets: dict[str, set[str]] = {}
        self.core_sets: dict[str, set[str]] = {}
        """Per playbook, the words that name it (tags, slug, users' vocabulary), not the
        incidental words of its summary and examples ("human", "assisted")."""
        for doc in playbooks:
            phrases = [doc.title, doc.summary, *doc.examples]
            extra = " ".join(str(v) for v in vocabulary.get(doc.slug, []))
            if extra:
                phrases.append(extra)
            for phrase in phrases:
                self.slugs.append(doc.slug)
                texts.append(phrase)
            bag = " ".join([*phrases, " ".join(doc.tags), doc.slug.replace("-", " ")])
            self.term_sets[doc.slug] = set(terms(bag))
            core = " ".join([extra, " ".join(doc.tags), doc.slug.replace("-", " ")])
            self.core_sets[doc.slug] = set(terms(core))
        self.matrix = embedding.embed(texts)
        self.idf = idf_table(self.term_sets.values())
        self.default_idf = max(self.idf.values(), default=1.0)
        self.core_idf = idf_table(self.core_sets.values())

    def rank(self, text: str) -> list[PlaybookMatch]:
        """Return every playbook with its score, best first."""
        query = self.embedding.embed([text])[0]
        sims = self.matrix @ query
        dense: dict[str, list[float]] = {}
        for slug, sim in zip(self.slugs, sims, strict=True):
            dense.setdefault(slug, []).append(float(sim))
        known = {t for t in terms(text) if t in self.idf}
        out = []
        for slug, values in dense.items():
            top = sorted(values, reverse=True)[:2]
            d = float(np.mean(top))
            lexical = overlap(list(known), self.term_sets[slug], self.idf, self.default_idf)
            # One common word ("approval") is weak evidence however well it "covers" the
            # request: scale by how much distinctive vocabulary actually matched.
            matched = sum(self.idf[t] for t in known if t in self.term_sets[slug])
            lexical *= min(1.0, matched / DISTINCTIVE_MASS)
            out.append(PlaybookMatch(slug, 0.5 * d + 0.5 * lexical, d, lexical))
        return sorted(out, key=lambda m: m.score, reverse=True)

    def rival(self, words: list[str], matches: list[PlaybookMatch]) -> str | None:
        """Return the runner-up when a short request names it as clearly as the best playbook.

        "joiners and leavers" has words naming onboarding and not offboarding, and words
        naming offboarding and not onboarding; a longer request's stray words do not count,
        nor does a distant runner-up.
        """
        if len(matches) < 2 or len(set(words)) > SHORT_REQUEST:
            return None
        top, second = matches[0], matches[1]
        if top.score - second.score >= RIVAL_GAP:
            return None
        first, other = self.core_sets[top.slug], self.core_sets[second.slug]
        apart = [self.core_mass(set(words) & a - b) for a, b in ((first, other), (other, first))]
        return second.slug if min(apart) >= PROCESS_MASS else None

    def core_mass(self, words: set[str]) -> float:
        """Return the idf mass of ``words`` among the words that name playbooks."""
        return sum(self.core_idf.get(w, 0.0) for w in words)

    def process_evidence(self, words: list[str]) -> float:
        """Return the most idf mass of ``words`` that name any one playbook."""
        known = {w for w in words if w in self.core_idf}
        return max(
            (sum(self.core_idf[w] for w in known if w in bag) for bag in self.core_sets.values()),
            default=0.0,
        )
