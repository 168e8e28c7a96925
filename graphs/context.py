"""The services a graph run uses, injected per run so tests and channels can swap them."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.brain.base import Brain
from assistant.db.journal import Journal, MemoryJournal
from assistant.db.users import Directory, MemoryDirectory
from assistant.policy import PolicyChecker
from connectors.registry import ConnectorRegistry
from graphs.automations import Automations
from knowledge.retrieval import Retriever


@dataclass
class Context:
    """Per-run services: brain, retriever, connectors, policy, users, journal, runtime.

    The defaults for ``directory`` and ``journal`` keep everything in memory
    (no users configured, so roles are not enforced); ``assistant.services`` wires the
    database-backed ones.
    """

    brain: Brain
    retriever: Retriever
    registry: ConnectorRegistry
    policy: PolicyChecker
    directory: Directory = field(default_factory=MemoryDirectory)
    journal: Journal = field(default_factory=MemoryJournal)
    automations: Automations | None = None
    """Where approved versions go live (``assistant.runtime.live``); None: nothing can."""
    sources_k: int = 4
    helpdesk_url: str = ""
    """Where replies to tickets with channel "webhook" go (an external helpdesk's endpoint)."""
