"""Incremental ingestion of markdown into Chroma through llama-index.

Each chunk carries the sha256 of its source file and the root it was ingested from, so the
collection itself is the manifest: an unchanged file is skipped, a changed file has its
chunks replaced, and a file gone from a root has its chunks removed. Because the state lives
in Chroma, the same logic works against a Chroma server shared by many replicas.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core import Document
from llama_index.core import Settings as LlamaSettings
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from knowledge.embeddings import WordLlamaEmbedding
from knowledge.library import LibraryDoc, iter_markdown, read_doc

CHUNK_SIZE = 256
CHUNK_OVERLAP = 32
ADD_BATCH = 2048

# Ingestion never calls an LLM: stop llama-index looking for one. It announces this with a
# print(), which must not reach stdout (the CLI's JSON modes own it) and tells users nothing.
with contextlib.redirect_stdout(io.StringIO()):
    LlamaSettings.llm = None  # type: ignore[assignment]


@dataclass
class IngestReport:
    """What one ingestion run changed."""

    files: int = 0
    unchanged: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def chunks_written(self) -> int:
        """Return how many chunks were embedded and stored."""
        return self.added + self.updated

    def summary(self) -> str:
        """Return a one-line human summary."""
        return (
            f"{self.files} files ({self.unchanged} unchanged): {self.added} chunks added, "
            f"{self.updated} updated, {self.removed} removed in {self.seconds:.2f}s"
        )


ProgressFn = Callable[[int, int, str], None]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


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


def doc_metadata(doc: LibraryDoc, root_key: str) -> dict[str, Any]:
    """Return the flat (Chroma-safe) metadata stored with every chunk of ``doc``."""
    return {
        "doc": doc.doc,
        "title": doc.title,
        "kind": doc.kind,
        "slug": doc.slug,
        "tags": ", ".join(doc.tags),
        "category": str(doc.front.get("category") or ""),
        "digest": doc.digest,
        "root": root_key,
    }


def chunk_doc(doc: LibraryDoc, root_key: str, splitter: SentenceSplitter) -> list[TextNode]:
    """Split ``doc`` into nodes with deterministic ids ``<root>::<doc>#<n>``.

    The title, summary and example phrasings form one extra "header" chunk (``#h``): it helps
    a short question find the document, and is never quoted as if it were the document.
    """
    metadata = doc_metadata(doc, root_key)
    source = Document(text=f"{doc.title}\n\n{doc.body}", metadata=metadata)
    parts = [
        (str(i), "body", n.get_content())
        for i, n in enumerate(splitter.get_nodes_from_documents([source]))
    ]
    header = " ".join([doc.title + ".", doc.summary, *doc.examples]).strip()
    parts.append(("h", "header", header))
    # Every chunk knows how many body chunks its document has, so the whole body can be
    # fetched by id (fast) instead of by a metadata filter (a scan).
    metadata["chunks"] = len(parts) - 1
    return [
        TextNode(
            id_=chunk_id(root_key, doc.doc, suffix),
            text=text,
            metadata={**metadata, "part": part, "seq": -1 if suffix == "h" else int(suffix)},
            excluded_embed_metadata_keys=[*metadata, "part", "seq"],
            excluded_llm_metadata_keys=[*metadata, "part", "seq"],
        )
        for suffix, part, text in parts
    ]


def chunk_id(root_key: str, doc: str, suffix: str | int) -> str:
    """Return the id of chunk ``suffix`` (a number, or "h" for the header) of ``doc``."""
    return f"{root_key}::{doc}#{suffix}"


class Ingestor:
    """Keep a Chroma collection in step with folders of markdown."""

    def __init__(self, collection: Any, embedding: WordLlamaEmbedding) -> None:
        self.collection = collection
        self.store = ChromaVectorStore(chroma_collection=collection)
        self.embedding = embedding
        self.splitter = SentenceSplitter(
            chunk_size=CHUNK_SIZE,
            chunk_overlap=CHUNK_OVERLAP,
            chunking_tokenizer_fn=split_sentences,
        )

    def manifest(self, root_key: str) -> dict[str, tuple[str, list[str]]]:
        """Return ``{doc: (digest, chunk ids)}`` for chunks stored from ``root_key``."""
        found = self.collection.get(where={"root": root_key}, include=["metadatas"])
        out: dict[str, tuple[str, list[str]]] = {}
        for chunk_id, meta in zip(found["ids"], found["metadatas"] or [], strict=False):
            digest, ids = out.get(meta["doc"], (str(meta.get("digest", "")), []))
            ids.append(chunk_id)
            out[meta["doc"]] = (digest, ids)
        return out

    def ingest(
        self, root: Path, *, root_key: str | None = None, progress: ProgressFn | None = None
    ) -> IngestReport:
        """Bring the collection in line with the markdown files under ``root``."""
        started = time.perf_counter()
        root = root.resolve()
        key = root_key or str(root)
        base = root.parent if root.is_file() else root
        report = IngestReport()
        stored = self.manifest(key)
        paths = iter_markdown(root)
        report.files = len(paths)
        pending: list[TextNode] = []
        stale: list[str] = []
        seen: set[str] = set()
        for index, path in enumerate(paths, 1):
            try:
                doc = read_doc(path, base)
            except (OSError, ValueError) as exc:
                report.errors.append(str(exc))
                continue
            seen.add(doc.doc)
            previous = stored.get(doc.doc)
            if previous and previous[0] == doc.digest:
                report.unchanged += 1
            else:
                nodes = chunk_doc(doc, key, self.splitter)
                pending.extend(nodes)
                if previous:
                    stale.extend(previous[1])
                    report.updated += len(nodes)
                else:
                    report.added += len(nodes)
            if progress:
                progress(index, len(paths), doc.doc)
        if not root.is_file():
            for doc_name, (_, ids) in stored.items():
                if doc_name not in seen:
                    stale.extend(ids)
                    report.removed += len(ids)
        if stale:
            self.collection.delete(ids=stale)
        self.add_nodes(pending)
        report.seconds = time.perf_counter() - started
        return report

    def add_nodes(self, nodes: list[TextNode]) -> None:
        """Embed ``nodes`` in batches and add them to the store.

        Chroma's persistent add dominates (about 1 ms a chunk here); a writer thread that
        overlapped it with embedding measured no faster, so this stays sequential.
        """
        for start in range(0, len(nodes), ADD_BATCH):
            batch = nodes[start : start + ADD_BATCH]
            vectors = self.embedding.embed([n.get_content() for n in batch])
            for node, vector in zip(batch, vectors, strict=True):
                node.embedding = vector.tolist()
            self.store.add(list[BaseNode](batch))
