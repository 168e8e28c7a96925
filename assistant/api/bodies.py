"""Request bodies of the JSON API: bounded in size and nesting, strict UTF-8, no lone surrogates.

Every route that takes JSON reads it through ``read_body`` and ``parse_model``, so a hostile
body gets a 400/413/422 naming the problem before anything is stored, never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from assistant.api.errors import ApiError

MAX_JSON_DEPTH = 32
"""Deeper than any contract needs; far below where Python's JSON parser runs out of stack."""

Model = TypeVar("Model", bound=BaseModel)

# Strings (so brackets inside them are skipped), then the brackets that nest.
_STRUCTURE = re.compile(r'(?P<string>"[^"\\]*(?:\\.[^"\\]*)*")|(?P<open>[\[{])|(?P<close>[\]}])')
_SURROGATE = re.compile("[\ud800-\udfff]")


async def read_body(request: Request, limit: int) -> bytes:
    """Return the request body, answering 413 as soon as it is known to exceed ``limit``."""
    too_large = ApiError(413, f"request body is larger than the limit of {limit:,} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def parse_json(raw: bytes, *, what: str = "request body") -> Any:
    """Return the JSON value in ``raw``; raise a 400 ``ApiError`` saying what is wrong.

    Refused: invalid UTF-8, nesting deeper than ``MAX_JSON_DEPTH``, ``NaN``/``Infinity``,
    numbers too long to convert, and escaped lone surrogates (``"\\ud800"``), which no
    database or email can store.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"{what} is not valid UTF-8 (byte {exc.start})") from None
    if nested_deeper_than(text, MAX_JSON_DEPTH):
        raise ApiError(400, f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:  # NaN/Infinity, or a number past int()'s digit limit
        raise ApiError(400, f"{what} is not valid JSON: {exc}") from None
    if (where := lone_surrogate_in(data, "body")) is not None:
        raise ApiError(
            400,
            f"{what} is not valid JSON text: {where} holds a lone surrogate (like \\ud800); "
            "send characters as UTF-8 or as complete surrogate pairs",
        )
    return data


def parse_model(raw: bytes, model: type[Model], *, what: str) -> Model:
    """Return ``raw`` as a ``model``: 400 if it is not clean JSON, 422 naming every bad field."""
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise ApiError(422, f"{what} does not match the contract: expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or what}: {error['msg']}"
            for error in exc.errors()
        )
        raise ApiError(422, f"{what} does not match the contract: {problems}") from None


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
