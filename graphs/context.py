"""The services a graph run uses, injected per run so tests and channels can swap them."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.brain.base import Brain
from assistant.policy import PolicyChecker
from connectors.registry import ConnectorRegistry
from knowledge.retrieval import Retriever


@dataclass
class Context:
    """Per-run services: brain, retriever, connectors and policy."""

    brain: Brain
    retriever: Retriever
    registry: ConnectorRegistry
    policy: PolicyChecker
    sources_k: int = 4
