"""Search the knowledge base: dense vectors from Chroma, re-ranked with lexical overlap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant.schemas import Source
from knowledge.embeddings import Embedder
from knowledge.store import chunk_id
from knowledge.text import idf_table, overlap, terms

CANDIDATES = 16
LEXICAL_WEIGHT = 0.5
QUESTION_BOOST = {"policy": 0.08}
"""Prior for answering questions: policies are the authority on rules."""


@dataclass(frozen=True)
class Passage:
    """The best-matching chunk of one document, with the document's score."""

    doc: str
    title: str
    kind: str
    slug: str
    text: str
    score: float
    category: str = ""
    root: str = ""
    chunks: int = 0
    document: str = ""
    """The document's whole body text (filled for the top results), for quoting."""

    def source(self) -> Source:
        """Return this passage as a contract ``Source``."""
        return Source(doc=self.doc, title=self.title, score=round(self.score, 4))


class Retriever:
    """Find the library documents that best answer a text.

    Ranking is by vector similarity. ``hybrid=True`` re-ranks the candidates with lexical
    overlap as well; on the shipped eval it did not improve citation hit@3 (see README),
    so it is off by default and ``flowdraft eval`` reports both.
    """

    def __init__(self, collection: Any, embedder: Embedder, *, hybrid: bool = False) -> None:
        self.collection = collection
        self.embedder = embedder
        self.hybrid = hybrid

    def search(
        self,
        text: str,
        *,
        kinds: Sequence[str] | None = None,
        k: int = 5,
        boost: Mapping[str, float] | None = None,
    ) -> list[Passage]:
        """Return up to ``k`` documents (best chunk each), best first, of the given kinds.

        ``boost`` adds a prior per kind, e.g. ``{"policy": 0.08}`` so that a question about
        rules cites the policy that sets the rule before a playbook that applies it.
        """
        if not text.strip():
            return []
        vector = self.embedder.embed([text])[0].tolist()
        where = {"kind": {"$in": list(kinds)}} if kinds else None
        found = self.collection.query(
            query_embeddings=[vector],
            n_results=CANDIDATES,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        chunks = [
            (meta, body, max(0.0, 1.0 - distance))  # cosine distance -> similarity
            for meta, body, distance in zip(
                found["metadatas"][0], found["documents"][0], found["distances"][0], strict=False
            )
        ]
        return self.rank(text, chunks, k, boost or {})

    def rank(
        self,
        text: str,
        chunks: list[tuple[dict[str, Any], str, float]],
        k: int,
        boost: Mapping[str, float],
    ) -> list[Passage]:
        """Combine dense and lexical scores per chunk and keep the best chunk per document."""
        query_terms = terms(text)
        tokenised = [set(terms(f"{meta.get('title', '')} {body}")) for meta, body, _ in chunks]
        idf = idf_table(tokenised)
        default_idf = max(idf.values(), default=1.0)
        best: dict[str, Passage] = {}
        for (meta, body, dense), doc_terms in zip(chunks, tokenised, strict=True):
            score = dense
            if self.hybrid:
                lexical = overlap(query_terms, doc_terms, idf, default_idf)
                score = (dense + LEXICAL_WEIGHT * lexical) / (1 + LEXICAL_WEIGHT)
            score += boost.get(str(meta.get("kind", "")), 0.0)
            doc = str(meta.get("doc", ""))
            if doc not in best or score > best[doc].score:
                best[doc] = Passage(
                    doc=doc,
                    title=str(meta.get("title", doc)),
                    kind=str(meta.get("kind", "doc")),
                    slug=str(meta.get("slug", "")),
                    text=body,
                    score=score,
                    category=str(meta.get("category", "")),
                    root=str(meta.get("root", "")),
                    chunks=int(meta.get("chunks", 0)),
                )
        return sorted(best.values(), key=lambda p: p.score, reverse=True)[:k]

    def with_documents(self, passages: list[Passage], top: int = 3) -> list[Passage]:
        """Return ``passages`` with the whole body text filled in for the first ``top``."""
        out = []
        for i, passage in enumerate(passages):
            if i < top:
                passage = replace(passage, document=self.document_text(passage))
            out.append(passage)
        return out

    def document_text(self, passage: Passage) -> str:
        """Return the body of the passage's document, reassembled from its chunks by id."""
        ids = [chunk_id(passage.root, passage.doc, i) for i in range(passage.chunks)]
        if not ids:
            return passage.text
        found = self.collection.get(ids=ids, include=["documents", "metadatas"])
        pairs = sorted(
            zip(found["metadatas"] or [], found["documents"] or [], strict=False),
            key=lambda pair: int(pair[0].get("seq", 0)),
        )
        return "\n\n".join(merge_overlaps([text for _, text in pairs]))

    def count(self) -> int:
        """Return how many chunks the collection holds."""
        return int(self.collection.count())


def merge_overlaps(chunks: list[str]) -> list[str]:
    """Drop the text each chunk repeats from the end of the one before it."""
    out: list[str] = []
    for chunk in chunks:
        if out:
            previous = out[-1]
            for size in range(min(len(previous), len(chunk), 400), 20, -1):
                if previous.endswith(chunk[:size]):
                    chunk = chunk[size:]
                    break
        out.append(chunk)
    return out
