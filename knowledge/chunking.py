"""llama-index's part of ingestion: split documents into nodes and write them to Chroma.

Imported only when something needs (re)ingesting: llama-index takes seconds to import, and
an unchanged library, retrieval and the CLI's answers never need it.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from typing import Any

from llama_index.core import Document
from llama_index.core import Settings as LlamaSettings
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode, TextNode
from pydantic import PrivateAttr

from knowledge.embeddings import Embedder
from knowledge.library import LibraryDoc
from knowledge.store import chunk_id

CHUNK_SIZE = 256
CHUNK_OVERLAP = 32
ADD_BATCH = 2048
SECTION_CHARS = 64 * 1024
"""A long body is split in sections of about this size, at paragraph breaks, before chunking:
the sentence splitter's working memory then follows a section, not the whole file."""
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# Ingestion never calls an LLM: stop llama-index looking for one. It announces this with a
# print(), which must not reach stdout (the CLI's JSON modes own it) and tells users nothing.
with contextlib.redirect_stdout(io.StringIO()):
    LlamaSettings.llm = None  # type: ignore[assignment]


class LlamaEmbedding(BaseEmbedding):
    """Any ``Embedder`` as llama-index's ``BaseEmbedding``."""

    model_name: str = "wordllama"
    embed_batch_size: int = 512
    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.name, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._embedder.embed([query])[0]]

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self._embedder.embed([text])[0]]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._embedder.embed(texts).tolist()
        return vectors

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


def split_sentences(text: str) -> list[str]:
    """Split text after sentence punctuation, keeping the whitespace with each sentence.

    A regex is ~10x faster than llama-index's default NLTK punkt tokenizer, and for our
    markdown it splits in the same places (a chunk boundary only moves by a sentence).
    """
    out = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        out.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        out.append(text[start:])
    return out


class Chunker:
    """Split library documents into nodes and write them, embedded, to a Chroma collection."""

    def __init__(self, collection: Any, embedder: Embedder) -> None:
        self.collection = collection
        self.embedding = LlamaEmbedding(embedder)
        self.splitter = SentenceSplitter(
            chunk_size=CHUNK_SIZE,
            chunk_overlap=CHUNK_OVERLAP,
            chunking_tokenizer_fn=split_sentences,
        )
        self.pending: list[TextNode] = []

    def split(self, doc: LibraryDoc, metadata: dict[str, Any]) -> list[str]:
        """Return the body chunks of ``doc`` as text, section by section.

        Chunk sizes leave room for the metadata, as llama-index's own node parsing does, so a
        document shorter than a section splits exactly as it would in one piece.
        """
        source = Document(text="", metadata=metadata)
        metadata_str = max(
            source.get_metadata_str(MetadataMode.EMBED),
            source.get_metadata_str(MetadataMode.LLM),
            key=len,
        )
        bodies: list[str] = []
        for index, section in enumerate(sections(doc.body)):
            text = f"{doc.title}\n\n{section}" if index == 0 else section
            bodies += self.splitter.split_text_metadata_aware(text, metadata_str=metadata_str)
        return bodies

    def write(
        self, doc: LibraryDoc, metadata: dict[str, Any], *, extra: dict[str, Any] | None = None
    ) -> int:
        """Split ``doc`` into chunks with ids ``<root>::<doc>#<n>`` and queue them for storing.

        The title, summary and example phrasings form one extra "header" chunk (``#h``): it
        helps a short question find the document, and is never quoted as if it were the
        document. Every chunk records how many body chunks its document has, so the whole
        body can be fetched by id (fast) instead of by a metadata filter (a scan). Every
        ``ADD_BATCH`` queued chunks are embedded and stored, so a long document never holds
        all its nodes and vectors at once; ``flush`` stores the rest.
        ``extra`` is bookkeeping stored with every chunk that does not shape the chunks.
        Returns how many chunks were written.
        """
        bodies = self.split(doc, metadata)
        header = " ".join([doc.title + ".", doc.summary, *doc.examples]).strip()
        meta = {**metadata, **(extra or {}), "chunks": len(bodies)}
        parts = [(str(i), "body", text) for i, text in enumerate(bodies)]
        parts.append(("h", "header", header))
        for suffix, part, text in parts:
            self.pending.append(
                TextNode(
                    id_=chunk_id(metadata["root"], doc.doc, suffix),
                    text=text,
                    metadata={**meta, "part": part, "seq": -1 if suffix == "h" else int(suffix)},
                    excluded_embed_metadata_keys=[*meta, "part", "seq"],
                    excluded_llm_metadata_keys=[*meta, "part", "seq"],
                )
            )
            if len(self.pending) >= ADD_BATCH:
                self.flush()
        return len(parts)

    def flush(self) -> None:
        """Embed the chunks written since the last flush and add them to the store.

        Chroma's persistent add dominates (about 1 ms a chunk here) and each call has its own
        overhead, so small documents share batches; a writer thread that overlapped adding
        with embedding measured no faster, so this stays sequential.
        """
        nodes, self.pending = self.pending, []
        if not nodes:
            return
        vectors = self.embedding.get_text_embedding_batch([n.get_content() for n in nodes])
        # Stored as plain rows: retrieval reads the text and these metadata keys only, so the
        # serialised node llama-index's vector store adds to every chunk (``_node_content``,
        # about as long as the text again) is not written.
        self.collection.add(
            ids=[n.node_id for n in nodes],
            embeddings=vectors,
            documents=[n.text for n in nodes],
            metadatas=[dict(n.metadata) for n in nodes],
        )


def sections(text: str, size: int = SECTION_CHARS) -> Iterator[str]:
    """Yield ``text`` in pieces of about ``size`` characters, cut at paragraph breaks.

    A paragraph longer than ``size`` stays whole; the splitter cuts it further. Empty text is
    one empty piece, so a document with no body still gets its title chunk.
    """
    if not text:
        yield text
    start = 0
    while start < len(text):
        end = len(text)
        if start + size < len(text):
            cut = text.rfind("\n\n", start, start + size)
            later = text.find("\n\n", start + size)
            if cut > start:
                end = cut + 2
            elif later != -1:
                end = later + 2
        yield text[start:end]
        start = end
