"""Incremental ingestion of markdown into Chroma through llama-index.

Each chunk carries the sha256 of its source file and the root it was ingested from, so the
collection itself is the manifest: an unchanged file is skipped, a changed file has its
chunks replaced, and a file gone from a root has its chunks removed. Because the state lives
in Chroma, the same logic works against a Chroma server shared by many replicas.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.embeddings import Embedder
from knowledge.library import LibraryDoc, iter_markdown, read_doc


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


class Ingestor:
    """Keep a Chroma collection in step with folders of markdown."""

    def __init__(self, collection: Any, embedder: Embedder) -> None:
        self.collection = collection
        self.embedder = embedder
        self._chunker: Any = None

    @property
    def chunker(self) -> Any:
        """Return the llama-index chunker, importing llama-index on first use."""
        if self._chunker is None:
            from knowledge.chunking import Chunker

            self._chunker = Chunker(self.collection, self.embedder)
        return self._chunker

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
        pending: list[Any] = []
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
                nodes = self.chunker.chunk(doc, doc_metadata(doc, key))
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
        if pending:
            self.chunker.add(pending)
        report.seconds = time.perf_counter() - started
        return report
