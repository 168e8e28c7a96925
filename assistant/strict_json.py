"""JSON from outside (API bodies, Slack payloads, CLI input) read strictly: valid UTF-8,
bounded nesting, real numbers only, no lone surrogates; every problem is one clear message.

Example:
    >>> load_json(b'{"subject": "Refund"}', what="ticket")
    {'subject': 'Refund'}
    >>> try:
    ...     load_json(b"[" * 40 + b"]" * 40, what="ticket")
    ... except JsonInputError as exc:
    ...     print(exc)
    ticket is nested deeper than 32 levels
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 32
"""Deeper than any contract needs; far below where Python's JSON parser runs out of stack."""

# Strings (so brackets inside them are skipped), then the brackets that nest.
_STRUCTURE = re.compile(r'(?P<string>"[^"\\]*(?:\\.[^"\\]*)*")|(?P<open>[\[{])|(?P<close>[\]}])')
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonInputError(ValueError):
    """Raised when outside input is not JSON that can be stored and shown safely."""


def load_json(raw: bytes | str, *, what: str) -> Any:
    """Return the JSON value in ``raw``, or raise ``JsonInputError`` naming the problem.

    Refused: invalid UTF-8, nesting deeper than ``MAX_JSON_DEPTH``, ``NaN``/``Infinity``,
    numbers too long to convert, and escaped lone surrogates (``"\\ud800"``), which no
    database, email or web page can carry. ``what`` names the input in messages.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    if nested_deeper_than(raw, MAX_JSON_DEPTH):
        raise JsonInputError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise JsonInputError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:  # NaN/Infinity, or a number past int()'s digit limit
        raise JsonInputError(f"{what} is not valid JSON: {exc}") from None
    if (where := lone_surrogate_in(data, what)) is not None:
        raise JsonInputError(
            f"{what} is not valid JSON text: {where} holds a lone surrogate (like \\ud800); "
            "send characters as UTF-8 or as complete surrogate pairs"
        )
    return data


def nested_deeper_than(text: str, limit: int) -> bool:
    """Return whether the arrays and objects of JSON ``text`` nest deeper than ``limit``."""
    depth = 0
    for token in _STRUCTURE.finditer(text):
        if token.lastgroup == "open":
            depth += 1
            if depth > limit:
                return True
        elif token.lastgroup == "close":
            depth -= 1
    return False


def refuse_constant(name: str) -> Any:
    """Refuse ``NaN`` and ``Infinity``: JSON has no such numbers."""
    raise ValueError(f"{name} is not a JSON number")


def lone_surrogate_in(value: Any, path: str) -> str | None:
    """Return where in parsed JSON ``value`` a string holds a lone surrogate, if anywhere.

    The JSON parser joins escaped surrogate pairs into one character, so any surrogate
    left in a string is a lone one. ``value`` is already known to nest shallowly.
    """
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return f"a key of {path}"
            if (found := lone_surrogate_in(item, f"{path}.{key}")) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := lone_surrogate_in(item, f"{path}[{index}]")) is not None:
                return found
    return None
