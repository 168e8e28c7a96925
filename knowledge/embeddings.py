"""Text embeddings: wordllama by default, offline, loaded from inside its own wheel.

``Embedder`` is the small interface retrieval and the offline brain use. Ingestion wraps it in
llama-index's ``BaseEmbedding`` (see ``knowledge.chunking``), so another embedding model is a
new ``Embedder`` plus a setting, and llama-index is only imported when something is ingested.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

_load_lock = threading.Lock()


class Embedder(Protocol):
    """Turns texts into unit-length vectors (so cosine similarity is a dot product)."""

    name: str
    dimensions: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return a (len(texts), dimensions) float32 array of unit vectors."""
        ...


@lru_cache(maxsize=1)
def load_wordllama() -> Any:
    """Load the wordllama model shipped inside its wheel, never touching the network."""
    import wordllama
    from wordllama import WordLlama

    with _load_lock:
        return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


class WordLlamaEmbedder:
    """256-d wordllama vectors, normalised.

    Example:
        >>> WordLlamaEmbedder().embed(["vendor invoice approval"]).shape
        (1, 256)
    """

    name = "wordllama"
    dimensions = 256

    def __init__(self) -> None:
        self._model = load_wordllama()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return a (len(texts), 256) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = np.asarray(self._model.embed(texts, norm=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms


def build_embedder(name: str) -> Embedder:
    """Return the embedder named by ``FLOWDRAFT_EMBEDDINGS``."""
    if name == "wordllama":
        return WordLlamaEmbedder()
    raise ValueError(f"unknown embeddings {name!r}; supported: wordllama")
