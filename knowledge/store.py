"""Open the Chroma collection: embedded PersistentClient by default, a Chroma server by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings

MIN_NAME = 3


def chunk_id(root_key: str, doc: str, suffix: str | int) -> str:
    """Return the id of chunk ``suffix`` (a number, or "h" for the header) of ``doc``."""
    return f"{root_key}::{doc}#{suffix}"


def chroma_client(*, path: Path | None = None, url: str = "") -> Any:
    """Return a Chroma client: an HTTP client for ``url``, else an embedded one at ``path``."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    if path is None:
        raise ValueError("an embedded Chroma store needs a path")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def open_collection(client: Any, name: str) -> Any:
    """Get or create ``name`` with cosine distance (vectors are unit length)."""
    if len(name) < MIN_NAME:
        raise ValueError(f"Chroma collection names need {MIN_NAME}+ characters (got {name!r})")
    return client.get_or_create_collection(name, configuration={"hnsw": {"space": "cosine"}})
