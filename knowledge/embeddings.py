"""Text embeddings behind llama-index's ``BaseEmbedding``: wordllama by default, offline."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def load_wordllama() -> Any:
    """Load the wordllama model shipped inside its wheel, never touching the network."""
    import wordllama
    from wordllama import WordLlama

    with _load_lock:
        return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


class WordLlamaEmbedding(BaseEmbedding):
    """Unit-length 256-d wordllama vectors (cosine = dot product).

    Example:
        >>> emb = WordLlamaEmbedding()
        >>> len(emb.get_text_embedding("vendor invoice approval"))
        256
    """

    model_name: str = "wordllama-l2-supercat-256"
    embed_batch_size: int = 512
    _model: Any = PrivateAttr()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model = load_wordllama()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return a (len(texts), 256) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        vectors = np.asarray(self._model.embed(texts, norm=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self.embed([query])[0]]

    def _get_text_embedding(self, text: str) -> list[float]:
        return [float(x) for x in self.embed([text])[0]]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.embed(texts).tolist()
        return vectors

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


def build_embedding(name: str) -> WordLlamaEmbedding:
    """Return the embedding model named by ``FLOWDRAFT_EMBEDDINGS``."""
    if name == "wordllama":
        return WordLlamaEmbedding()
    raise ValueError(f"unknown embeddings {name!r}; supported: wordllama")
