"""The ``chat --json`` channel: JSON lines in on stdin, contract events out on stdout."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from pydantic import ValidationError

from assistant.schemas import ReviewResponse
from assistant.strict_json import JsonInputError, load_json
from graphs.runner import ChatRunner, InputError

log = logging.getLogger(__name__)

TEXT_KEYS = {"text", "user", "thread"}
DECISION_KEYS = {"decision", "user", "thread"}
MAX_LINE_BYTES = 1_000_000
DEFAULT_THREAD = "default"
DEFAULT_USER = "anonymous"


def error_event(message: str, thread: str | None = None) -> dict[str, Any]:
    """Return an ``error`` event."""
    return {"type": "error", "thread": thread, "message": message}


def parse_line(raw: bytes) -> dict[str, Any]:
    """Decode one input line into a validated request, or raise ``InputError``."""
    if len(raw) > MAX_LINE_BYTES:
        raise InputError(f"line is too long ({len(raw):,} bytes; the limit is {MAX_LINE_BYTES:,})")
    try:
        data = load_json(raw, what="line")
    except JsonInputError as exc:
        raise InputError(str(exc)) from None
    if not isinstance(data, dict):
        raise InputError("each line must be a JSON object with 'text' or 'decision'")
    keys = set(data)
    if "text" in data and "decision" in data:
        raise InputError("a line has either 'text' or 'decision', not both")
    allowed = DECISION_KEYS if "decision" in data else TEXT_KEYS
    if "text" not in data and "decision" not in data:
        raise InputError("a line needs 'text' or 'decision'")
    unknown = sorted(keys - allowed)
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}")
    thread = data.get("thread", DEFAULT_THREAD)
    user = data.get("user", DEFAULT_USER)
    if not isinstance(thread, str) or not thread.strip() or len(thread) > 200:
        raise InputError("'thread' must be a non-empty string of at most 200 characters")
    if not isinstance(user, str) or not user.strip():
        raise InputError("'user' must be a non-empty string")
    return {**data, "thread": thread, "user": user}


def read_decision(data: dict[str, Any]) -> ReviewResponse:
    """Validate the ``decision`` object; its user defaults to the line's user."""
    decision = data["decision"]
    if not isinstance(decision, dict):
        raise InputError('\'decision\' must be an object like {"type": "accept"}')
    try:
        return ReviewResponse.model_validate({"user": data["user"], **decision})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "decision"
        raise InputError(f"invalid decision: {where}: {first['msg']}") from None


async def handle_line(runner: ChatRunner, raw: bytes) -> AsyncIterator[dict[str, Any]]:
    """Yield the events for one input line; problems become ``error`` events."""
    thread: str | None = None
    try:
        data = parse_line(raw)
        thread = data["thread"]
        if "decision" in data:
            stream = runner.send_decision(data["thread"], read_decision(data))
        else:
            stream = runner.send_text(data["thread"], data["text"], data["user"])
        async for event in stream:
            yield event
    except InputError as exc:
        yield error_event(str(exc), thread)
    except Exception as exc:  # a failed turn must not end the session
        log.exception("turn failed")
        yield error_event(f"internal error: {type(exc).__name__}: {exc}", thread)


async def serve_lines(
    runner: ChatRunner, lines: Iterable[bytes], emit: Callable[[dict[str, Any]], None]
) -> int:
    """Process every line and return how many produced an error event."""
    errors = 0
    for raw in lines:
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        async for event in handle_line(runner, raw):
            errors += event["type"] == "error"
            emit(event)
    return errors
