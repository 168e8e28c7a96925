"""Read "test run with invoice.amount=52000 invoice.vendor=Acme" as a sample event.

While a draft waits for review, a message starting with "test run", "dry run" or "try it"
asks for a test run instead of an edit. What follows is the sample event: a JSON object,
or ``path=value`` pairs (quoted values may hold spaces; numbers, true/false and null are
read as such). Nothing after the command means "the last sample again".
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from assistant.runtime.steps import event_fields
from assistant.schemas import WorkflowDraft

COMMAND = re.compile(
    r"^\s*(?:test[- ]?run|dry[- ]?run|try\s+it)\b\s*(?:(?:with|on|using)\b)?\s*[:,]?\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
NUMBER = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^-?\d+(?:\.\d+)?$")
PATH = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*$")


class SampleError(ValueError):
    """Raised for a test-run request whose sample cannot be read; says what to write."""


def sample_request(text: str) -> dict[str, Any] | None:
    """Return the sample event a test-run request gives (``{}`` for none), or None.

    None means the text is not a test-run request. Raises ``SampleError`` for a sample
    that cannot be read.

    Example:
        >>> sample_request('test run with invoice.amount=52,000 invoice.vendor="Acme Freight"')
        {'invoice': {'amount': 52000, 'vendor': 'Acme Freight'}}
        >>> sample_request("make the threshold 5000") is None
        True
    """
    matched = COMMAND.match(text)
    if matched is None:
        return None
    rest = matched["rest"].strip()
    if not rest:
        return {}
    if rest.startswith("{"):
        try:
            sample = json.loads(rest)
        except json.JSONDecodeError as exc:
            raise SampleError(f"the sample is not valid JSON ({exc.msg})") from None
        if not isinstance(sample, dict):
            raise SampleError("the sample must be a JSON object")
        return sample
    return pairs(rest)


def pairs(text: str) -> dict[str, Any]:
    """Read ``path=value`` pairs into a nested event."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise SampleError(f"the sample could not be read ({exc})") from None
    event: dict[str, Any] = {}
    for word in words:
        path, sep, raw = word.partition("=")
        path = path.strip().rstrip(":")
        if not sep or not PATH.match(path):
            raise SampleError(
                f"{word!r} is not a field=value pair; write e.g. invoice.amount=52000"
            )
        place = event
        *parents, leaf = path.split(".")
        for name in parents:
            nested = place.setdefault(name, {})
            if not isinstance(nested, dict):
                raise SampleError(f"{path} sets a field inside {name}, which has a value")
            place = nested
        place[leaf] = scalar(raw.strip())
    return event


def scalar(raw: str) -> Any:
    """Read a number, true/false or null; anything else stays text."""
    if NUMBER.match(raw):
        number = float(raw.replace(",", ""))
        return int(number) if number.is_integer() else number
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    return raw


def example_request(draft: WorkflowDraft) -> str:
    """Return a test-run request naming every field the draft reads, as a model to copy."""
    fields = event_fields(draft)
    if not fields:
        return "test run"
    return "test run with " + " ".join(f"{name}=…" for name in fields)
