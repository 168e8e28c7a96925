"""The params of every connector operation, shared by drafting, policy and runs."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from connectors.base import Operation, OperationParams

RUNTIME_PLACEHOLDER = re.compile(r"^\{\{\s*[\w.]+\s*\}\}$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$")
LINE_BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"
"""Every character ``str.splitlines`` breaks on: none may appear in a mail header."""


def one_line(value: str) -> str:
    """Return ``value`` folded to one line: each run of line breaks becomes a single space."""
    return " ".join(part.strip() for part in value.splitlines() if part.strip())


def line_break_in(value: str) -> str | None:
    """Return the first line break in ``value`` as ``U+000A``, or None if it is one line."""
    found = next((char for char in value if char in LINE_BREAKS), None)
    return f"U+{ord(found):04X}" if found else None


def is_runtime(value: str) -> bool:
    """Tell whether ``value`` is a ``{{field}}`` filled in when the workflow runs."""
    return bool(RUNTIME_PLACEHOLDER.match(value.strip()))


def _check_address(value: str) -> str:
    value = value.strip()
    if not (is_runtime(value) or EMAIL.match(value)):
        raise ValueError(f"{value!r} is not an email address")
    return value.lower() if EMAIL.match(value) else value


class PostMessage(OperationParams):
    """Post a message to a Slack channel."""

    channel: str
    text: str = Field(min_length=1, max_length=40_000)
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        value = value.strip()
        if not (CHANNEL.match(value) or is_runtime(value)):
            raise ValueError(f"{value!r} is not a Slack channel like '#finance'")
        return value


class SendEmail(OperationParams):
    """Send an email."""

    to: list[str] = Field(min_length=1)
    subject: str = Field(min_length=1, max_length=998)
    body: str
    cc: list[str] = Field(default_factory=list)

    @field_validator("to", "cc", mode="before")
    @classmethod
    def _addresses(cls, value: Any) -> list[str]:
        items = [value] if isinstance(value, str) else list(value or [])
        return [_check_address(str(item)) for item in items]

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # A line break in a header would end it and start another (header injection).
        if found := line_break_in(value):
            raise ValueError(f"must be one line, but contains a line break ({found})")
        return value


class PostJson(OperationParams):
    """POST a JSON payload to a URL."""

    url: str
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not (value.startswith(("https://", "http://")) or is_runtime(value)):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


Priority = Literal["low", "normal", "high", "urgent"]


class CreateTicket(OperationParams):
    """Open a ticket in the helpdesk."""

    subject: str = Field(min_length=1)
    body: str = ""
    queue: str = "support"
    priority: Priority = "normal"


class CommentTicket(OperationParams):
    """Add a comment to a ticket."""

    ticket_id: str
    body: str = Field(min_length=1)


class SetTicketStatus(OperationParams):
    """Change a ticket's status."""

    ticket_id: str
    status: Literal["open", "pending", "solved", "closed"]


class AssignTicket(OperationParams):
    """Assign a ticket to a person or queue."""

    ticket_id: str
    assignee: str = Field(min_length=1)


class RecordNote(OperationParams):
    """Record a note (the sandbox's own operation)."""

    note: str = Field(min_length=1)


def __getattr__(name: str) -> dict[str, dict[str, Operation]]:
    """Return ``CATALOG``: every operation by connector name, as the connectors declare them.

    Computed on first use from the registered connector classes (``connectors.kinds``),
    which import this module for their params.
    """
    if name == "CATALOG":
        from connectors.kinds import catalog

        return catalog()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
