"""An in-memory twin of a Chroma collection, for tests and throwaway knowledge bases.

It implements the part of Chroma's ``Collection`` API that ingestion and retrieval use
(``add``, ``upsert``, ``get``, ``query``, ``delete``, ``count``) with the same shapes and
the same metadata filters (``{"field": value}``, ``$eq``, ``$ne``, ``$in``, ``$nin``,
``$and``, ``$or``), and cosine distance as ``knowledge.store.open_collection`` configures.
Queries are exact (a full scan), which is what a few thousand chunks need; Chroma's HNSW
index is approximate, so rankings can differ only where scores tie.

    >>> collection = MemoryCollection()
    >>> collection.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["hi"], metadatas=[{"kind": "faq"}])
    >>> collection.query(query_embeddings=[[1.0, 0.0]], n_results=1)["ids"]
    [['a']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Metadata = Mapping[str, Any]
ALL_FIELDS = ("documents", "metadatas", "embeddings")


class MemoryCollection:
    """Chunks, their vectors and metadata in dictionaries; searched by exact cosine distance."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.metadata: dict[str, Any] = {"hnsw:space": "cosine"}
        self.rows: dict[str, tuple[np.ndarray, str, dict[str, Any]]] = {}

    def count(self) -> int:
        """Return how many chunks the collection holds."""
        return len(self.rows)

    def add(self, ids: Sequence[str], *args: Any, **kwargs: Any) -> None:
        """Store new chunks (as ``upsert`` takes them); an id already present is an error."""
        taken = [i for i in ids if i in self.rows]
        if taken:
            raise ValueError(f"ids already in the collection: {taken[:3]}")
        self.upsert(ids, *args, **kwargs)

    def upsert(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Sequence[float]] | np.ndarray,
        metadatas: Sequence[Metadata | None] | None = None,
        documents: Sequence[str] | None = None,
        **_: Any,
    ) -> None:
        """Store chunks, replacing any with the same id."""
        for index, chunk_id in enumerate(ids):
            vector = np.asarray(embeddings[index], dtype=np.float32)
            norm = float(np.linalg.norm(vector)) or 1.0
            meta = dict((metadatas or [None] * len(ids))[index] or {})
            body = (documents or [""] * len(ids))[index]
            self.rows[chunk_id] = (vector / norm, body, meta)

    def delete(self, ids: Sequence[str] | None = None, where: Metadata | None = None) -> None:
        """Remove chunks by id and/or by metadata filter."""
        for chunk_id in self.matching(ids, where):
            del self.rows[chunk_id]

    def get(
        self,
        ids: Sequence[str] | None = None,
        where: Metadata | None = None,
        include: Sequence[str] = ("documents", "metadatas"),
        **_: Any,
    ) -> dict[str, Any]:
        """Return the chunks with these ids and/or matching ``where``, in Chroma's shape."""
        found = self.matching(ids, where)
        return {"ids": found, **self.fields(found, include)}

    def query(
        self,
        query_embeddings: Sequence[Sequence[float]] | np.ndarray,
        n_results: int = 10,
        where: Metadata | None = None,
        include: Sequence[str] = ("documents", "metadatas", "distances"),
        **_: Any,
    ) -> dict[str, Any]:
        """Return the ``n_results`` nearest chunks per query vector, nearest first."""
        candidates = self.matching(None, where)
        out: dict[str, list[Any]] = {"ids": []}
        wanted = [f for f in ALL_FIELDS if f in include]
        for name in [*wanted, "distances"]:
            out[name] = []
        matrix = (
            np.stack([self.rows[i][0] for i in candidates])
            if candidates
            else np.zeros((0, 1), dtype=np.float32)
        )
        for query in query_embeddings:
            vector = np.asarray(query, dtype=np.float32)
            vector = vector / (float(np.linalg.norm(vector)) or 1.0)
            distances = 1.0 - matrix @ vector if candidates else np.zeros(0)
            order = np.argsort(distances, kind="stable")[:n_results]
            ids = [candidates[i] for i in order]
            out["ids"].append(ids)
            for name, values in self.fields(ids, wanted).items():
                out[name].append(values)
            out["distances"].append([float(distances[i]) for i in order])
        if "distances" not in include:
            del out["distances"]
        return out

    def matching(self, ids: Sequence[str] | None, where: Metadata | None) -> list[str]:
        """Return the stored ids among ``ids`` (all when None) whose metadata match ``where``."""
        pool = [i for i in ids if i in self.rows] if ids is not None else list(self.rows)
        if not where:
            return pool
        return [i for i in pool if matches(self.rows[i][2], where)]

    def fields(self, ids: Sequence[str], include: Sequence[str]) -> dict[str, list[Any]]:
        """Return the included fields of ``ids`` as parallel lists."""
        out: dict[str, list[Any]] = {}
        if "documents" in include:
            out["documents"] = [self.rows[i][1] for i in ids]
        if "metadatas" in include:
            out["metadatas"] = [dict(self.rows[i][2]) for i in ids]
        if "embeddings" in include:
            out["embeddings"] = [self.rows[i][0].tolist() for i in ids]
        return out


def matches(meta: Metadata, where: Metadata) -> bool:
    """Return whether ``meta`` satisfies a Chroma ``where`` filter.

    Raises:
        ValueError: the filter uses an operator Chroma does not have.
    """
    for key, condition in where.items():
        if key == "$and":
            if not all(matches(meta, part) for part in condition):
                return False
        elif key == "$or":
            if not any(matches(meta, part) for part in condition):
                return False
        elif not compare(meta.get(key), condition):
            return False
    return True


def compare(value: Any, condition: Any) -> bool:
    """Return whether one metadata value satisfies one field's condition."""
    if not isinstance(condition, Mapping):
        return bool(value == condition)
    for operator, operand in condition.items():
        if operator == "$eq":
            ok = value == operand
        elif operator == "$ne":
            ok = value != operand
        elif operator == "$in":
            ok = value in operand
        elif operator == "$nin":
            ok = value not in operand
        else:
            raise ValueError(f"unsupported filter operator {operator!r}")
        if not ok:
            return False
    return True
