"""Reasoning: the ``Brain`` protocol, the offline default and the chat-model brain."""

from __future__ import annotations

from assistant.brain.base import Answer, Brain, Revision
from assistant.policy import Policy
from assistant.settings import Settings
from knowledge.embeddings import Embedder
from knowledge.library import LibraryDoc

__all__ = ["Answer", "Brain", "Revision", "build_brain"]


def build_brain(
    settings: Settings,
    library: list[LibraryDoc],
    embedding: Embedder,
    policy: Policy | None = None,
) -> Brain:
    """Return the brain ``FLOWDRAFT_MODEL`` names: offline, or a chat model with offline fallback."""
    from assistant.brain.offline import OfflineBrain

    offline = OfflineBrain(library, embedding, policy)
    if settings.model == "offline":
        return offline
    from assistant.brain.chat_model import ChatModelBrain, load_chat_model

    model = load_chat_model(settings.model)
    return ChatModelBrain(
        model,
        fallback=offline,
        playbooks=[d for d in library if d.kind == "playbook"],
        timeout=settings.model_timeout,
        retries=settings.model_retries,
        policy=policy,
    )
