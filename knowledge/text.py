"""Tokenising and lexical overlap shared by retrieval and the offline brain."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "else",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "how",
        "when",
        "where",
        "why",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "not",
        "no",
        "yes",
        "so",
        "as",
        "than",
        "too",
        "very",
        "just",
        "also",
        "any",
        "all",
        "each",
        "every",
        "some",
        "such",
        "only",
        "own",
        "same",
        "both",
        "few",
        "more",
        "most",
        "other",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
        "up",
        "out",
        "about",
        "again",
        "further",
        "once",
        "get",
        "got",
        "let",
        "make",
        "want",
        "need",
        "like",
        "im",
        "ive",
        "dont",
        "cant",
        "wont",
        "s",
        "t",
        "last",
        "same",
        "better",
        "faster",
        "thing",
        "things",
        "stuff",
        "something",
        "pls",
        "plz",
        "lot",
        "lots",
        "way",
        "auto",
        "automate",
        "automated",
        "automatically",
        "automation",
        "automations",
        "automating",
        "set",
        "setup",
        "up",
        "workflow",
        "workflows",
        "flow",
        "flows",
        "process",
        "processes",
        "build",
        "make",
        "create",
        "notification",
        "notifications",
        "notify",
    ]
)


_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """Reduce a word to its Snowball stem so 'invoices', 'invoicing' and 'invoice' meet."""
    return str(_stemmer.stemWord(word))


def terms(text: str) -> list[str]:
    """Return stemmed content words of ``text``."""
    words = WORD.findall(text.lower().replace("’", "'"))
    return [stem(w.split("'")[0]) for w in words if w not in STOPWORDS and len(w) > 1]


def idf_table(documents: Iterable[Iterable[str]]) -> dict[str, float]:
    """Return smoothed inverse document frequencies over tokenised ``documents``."""
    docs = [set(d) for d in documents]
    n = len(docs)
    counts: dict[str, int] = {}
    for d in docs:
        for term in d:
            counts[term] = counts.get(term, 0) + 1
    return {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in counts.items()}


def overlap(query: list[str], doc: set[str], idf: dict[str, float], default: float) -> float:
    """Return the idf-weighted share of query terms found in ``doc`` (0..1)."""
    unique = set(query)
    if not unique:
        return 0.0
    total = sum(idf.get(t, default) for t in unique)
    hit = sum(idf.get(t, default) for t in unique if t in doc)
    return hit / total if total else 0.0
