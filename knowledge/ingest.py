"""Incremental ingestion of markdown into Chroma through llama-index.

Each chunk carries the sha256 of its source file and the root it was ingested from, so the
collection itself is the manifest: an unchanged file is skipped, a changed file has its
chunks replaced, and a file gone from a root has its chunks removed. Because the state lives
in Chroma, the same logic works against a Chroma server shared by many replicas.

Only markdown and text files are read, none larger than the size limit, and no symlink that
leads out of the root; sentences the policy's injection patterns flag are withheld before
anything is stored (see ``knowledge.screening``). Chunks are embedded and written a batch at
a time as documents are split, so memory follows a batch, not the whole run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.embeddings import Embedder
from knowledge.library import TEXT_SUFFIXES, LibraryDoc, find_documents, read_doc
from knowledge.screening import DocumentScreen, preview

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 5 * MB
MAX_SETTING = "FLOWDRAFT_INGEST_MAX_MB"


class UnsupportedFile(ValueError):
    """Raised when a single file given to ingest is not markdown or text."""


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
    skipped: list[str] = field(default_factory=list)
    """Files left out on purpose (a symlink out of the root, over the size limit), and why."""
    withheld: list[str] = field(default_factory=list)
    """Sentences not stored because they give orders or relax a rule, as ``doc: sentence``."""

    @property
    def chunks_written(self) -> int:
        """Return how many chunks were embedded and stored."""
        return self.added + self.updated

    def summary(self) -> str:
        """Return a one-line human summary."""
        line = (
            f"{self.files} files ({self.unchanged} unchanged): {self.added} chunks added, "
            f"{self.updated} updated, {self.removed} removed in {self.seconds:.2f}s"
        )
        if self.skipped:
            line += f"; {len(self.skipped)} skipped"
        if self.withheld:
            plural = "s" if len(self.withheld) != 1 else ""
            line += f"; {len(self.withheld)} sentence{plural} withheld as instructions"
        return line


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

    def __init__(
        self,
        collection: Any,
        embedder: Embedder,
        *,
        screen: DocumentScreen | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.collection = collection
        self.embedder = embedder
        self.screen = screen or DocumentScreen()
        self.max_bytes = max_bytes
        self._chunker: Any = None

    @property
    def chunker(self) -> Any:
        """Return the llama-index chunker, importing llama-index on first use."""
        if self._chunker is None:
            from knowledge.chunking import Chunker

            self._chunker = Chunker(self.collection, self.embedder)
        return self._chunker

    def manifest(self, root_key: str) -> dict[str, tuple[str, list[str]]]:
        """Return ``{doc: (digest and screen, chunk ids)}`` for chunks stored from ``root_key``.

        The screen's fingerprint is part of the key, so documents stored before the policy's
        injection patterns changed are read and screened again.
        """
        found = self.collection.get(where={"root": root_key}, include=["metadatas"])
        out: dict[str, tuple[str, list[str]]] = {}
        for chunk_id, meta in zip(found["ids"], found["metadatas"] or [], strict=False):
            state = f"{meta.get('digest', '')}/{meta.get('screen', '')}"
            digest, ids = out.get(meta["doc"], (state, []))
            ids.append(chunk_id)
            out[meta["doc"]] = (digest, ids)
        return out

    def too_large(self, path: Path, name: str) -> str | None:
        """Return why ``path`` is skipped for its size, or None when it is within the limit."""
        size = path.stat().st_size
        if size <= self.max_bytes:
            return None
        return (
            f"{name}: {size / MB:.3g} MB is over the {self.max_bytes / MB:.3g} MB limit "
            f"(set {MAX_SETTING} to raise it)"
        )

    def ingest(
        self, root: Path, *, root_key: str | None = None, progress: ProgressFn | None = None
    ) -> IngestReport:
        """Bring the collection in line with the markdown and text files under ``root``.

        Raises:
            UnsupportedFile: ``root`` is a single file that is not markdown or text.
        """
        started = time.perf_counter()
        root = root.resolve()
        if root.is_file() and root.suffix.lower() not in TEXT_SUFFIXES:
            raise UnsupportedFile(
                f"{root.name}: only markdown and text files can be ingested "
                f"({', '.join(TEXT_SUFFIXES)})"
            )
        key = root_key or str(root)
        base = root.parent if root.is_file() else root
        report = IngestReport()
        stored = self.manifest(key)
        paths, report.skipped = find_documents(root)
        report.files = len(paths)
        seen: set[str] = set()
        for index, path in enumerate(paths, 1):
            name = path.relative_to(base).as_posix()
            stored_as = self.update(path, base, key, stored.get(name), report)
            if stored_as:
                seen.add(stored_as)
            if progress:
                progress(index, len(paths), name)
        if self._chunker is not None:
            self.chunker.flush()
        stale: list[str] = []
        if not root.is_file():
            for doc_name, (_, ids) in stored.items():
                if doc_name not in seen:
                    stale.extend(ids)
                    report.removed += len(ids)
        if stale:
            self.collection.delete(ids=stale)
        report.seconds = time.perf_counter() - started
        return report

    def update(
        self,
        path: Path,
        base: Path,
        key: str,
        previous: tuple[str, list[str]] | None,
        report: IngestReport,
    ) -> str | None:
        """Store one file's chunks unless unchanged; return its doc name, None if not read."""
        name = path.relative_to(base).as_posix()
        try:
            reason = self.too_large(path, name)
            if reason:
                report.files -= 1
                report.skipped.append(reason)
                return None
            doc = read_doc(path, base)
        except (OSError, ValueError) as exc:
            report.errors.append(str(exc))
            return None
        screen = self.screen.fingerprint
        if previous and previous[0] == f"{doc.digest}/{screen}":
            report.unchanged += 1
            return doc.doc
        doc, withheld = self.screen.screen_doc(doc)
        report.withheld += [f"{doc.doc}: {preview(sentence)}" for sentence in withheld]
        if previous:
            # Ids are deterministic: the old chunks go before the new ones take their place.
            self.collection.delete(ids=previous[1])
        written: int = self.chunker.write(doc, doc_metadata(doc, key), extra={"screen": screen})
        if previous:
            report.updated += written
        else:
            report.added += written
        return doc.doc
