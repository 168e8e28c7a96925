"""The chat graph's state: plain JSON values, so any checkpointer can store and reload it."""

from __future__ import annotations

import operator
from typing import Annotated, Any

# typing_extensions, not typing: pydantic builds the server's input/output schema from it.
from typing_extensions import TypedDict


class ChatState(TypedDict, total=False):
    """Everything one conversation thread remembers between turns.

    Values are JSON-ready dicts of the contract models (``Intent``, ``WorkflowDraft`` ...),
    validated again by the node that reads them.
    """

    thread: str
    user: str
    text: str
    goal: str
    pending_goal: str | None
    intent: dict[str, Any]
    passages: list[dict[str, Any]]
    workflow: dict[str, Any] | None
    versions: list[dict[str, Any]]
    decision: dict[str, Any] | None
    decision_refused: bool
    """The last answer to the review was refused (malformed, stale or not allowed)."""
    approval_complete: bool
    """Every approval the current version needs is recorded."""
    revision_failed: bool
    """The last edit or plain-language change could not be applied."""
    edited_by: str | None
    """Who made the version waiting for its policy check, if it came from an edit."""
    approved_by: str | None
    requester: str
    requesters: list[str]
    """Who asked for the current version: the requester and whoever changed a high-risk step."""
    risk: str
    required_roles: list[str]
    approvals: list[dict[str, Any]]
    results: list[dict[str, Any]]
    """What sending an accepted ticket reply did, per step."""
    automation: dict[str, Any] | None
    """The live automation the approved version became (the ``Automation`` contract)."""
    first_run: dict[str, Any] | None
    """The run a manual trigger started on activation (the ``Run`` contract)."""
    sample_event: dict[str, Any]
    """The last test run's sample event; a manual trigger's first run uses it."""
    test_requested: bool
    """The last answer to the review asked for a test run."""
    message: dict[str, Any] | None
    notice: str | None
    ticket: dict[str, Any] | None
    ticket_ref: str | None
    reply: dict[str, Any] | None
    messages: Annotated[list[Any], operator.add]
    """Chat messages; Agent Chat UI sends only the new ones, so they are appended.

    The last new human one starts a turn.
    """
    heard: int
    """How many of ``messages`` have been read as turns."""
