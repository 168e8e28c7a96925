"""What the chat graph asks of the runtime: make an approved version live, and test-run a draft.

The graph knows only this port; ``assistant.runtime.live`` implements it over the app
database and the run engine. Values cross it as the JSON contracts (``Automation`` and
``Run`` dicts, DESIGN.md) so that they go into checkpointed state unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.schemas import WorkflowDraft


class ActivationRefused(Exception):
    """Raised when an approved version cannot go live (e.g. its schedule cannot be read)."""


@dataclass(frozen=True)
class Activated:
    """A version made live: the automation, where its events go, and its first run if any."""

    automation: dict[str, Any]
    """The ``Automation`` contract."""
    hook_url: str | None = None
    """Where events are posted (webhook and event triggers)."""
    run: dict[str, Any] | None = None
    """The first run a manual trigger started (the ``Run`` contract)."""
    notes: list[str] = field(default_factory=list)
    """What the owner should know next: how to get the hook token, when a schedule fires,
    why a first run did not start."""


class Automations(Protocol):
    """The runtime as the chat graph sees it."""

    async def activate(
        self,
        draft: WorkflowDraft,
        *,
        approvals: list[str],
        owner: str,
        thread: str,
        inputs: dict[str, Any],
    ) -> Activated:
        """Make ``draft`` a live automation; a manual trigger starts a run with ``inputs``.

        Raises ``ActivationRefused`` when the version cannot go live.
        """
        ...

    async def test_run(self, draft: WorkflowDraft, event: dict[str, Any]) -> dict[str, Any]:
        """Return the shadow ``Run`` of ``draft`` on a sample ``event``; nothing is sent.

        Raises ``ActivationRefused`` naming the fields the sample lacks.
        """
        ...
