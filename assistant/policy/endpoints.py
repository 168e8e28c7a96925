"""Normalise what an action step does (URLs, text) so policy matches the action, not its spelling.

``https://Payments.internal.northwind.example//api/./%74ransfers/?x=1`` and
``https://payments.internal.northwind.example/api/transfers`` are the same endpoint: a
Do-Not-Automate item must catch both.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

# Enough rounds to undo any encoding a client would still decode; more is an attack on us.
DECODE_ROUNDS = 8
INVISIBLE = re.compile(r"[\x00-\x20\x7f\u200b-\u200f\u2060\ufeff]")
URL_START = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def decoded(text: str) -> str:
    """Percent-decode ``text`` until it stops changing, then fold look-alike characters."""
    for _ in range(DECODE_ROUNDS):
        once = unquote(text)
        if once == text:
            break
        text = once
    return unicodedata.normalize("NFKC", text)


def normalize_url(url: str) -> str:
    """Return ``url`` as policy compares it: decoded, lower-case, clean path, no query.

    Example:
        >>> normalize_url("HTTPS://Payments.Internal.Northwind.Example//api/./x/../%74ransfers/?a=1")
        'https://payments.internal.northwind.example/api/transfers'
    """
    text = INVISIBLE.sub("", decoded(url)).replace("\\", "/")
    try:
        parts = urlsplit(text)
    except ValueError:  # a malformed host ("[::1") is still compared, as plain text
        return text.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    path = re.sub(r"/{2,}", "/", parts.path)
    path = posixpath.normpath(path) if path else ""
    path = "" if path in (".", "/") else path.lower().rstrip("/")
    return f"{parts.scheme.lower()}://{host}{path}"


def same_endpoint(url: str, endpoint: str) -> bool:
    """Tell whether ``url`` is ``endpoint`` or a path below it, however either is written."""
    found, wanted = normalize_url(url), normalize_url(endpoint)
    return found == wanted or found.startswith(wanted + "/")


def strings(value: Any) -> Iterator[str]:
    """Yield every string inside nested params (keys too: a key can name the action)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)
    elif value is not None:
        yield str(value)


def urls(params: dict[str, Any]) -> list[str]:
    """Return every URL in ``params``, decoded, at any depth."""
    return [decoded(s).strip() for s in strings(params) if URL_START.match(decoded(s).strip())]


def action_text(title: str, operation: str, params: dict[str, Any]) -> str:
    """Return the text policy patterns run over: title, operation and params, all decoded.

    URLs appear as written (decoded) and normalised, so a pattern finds ``/api/transfers``
    whether it was sent as ``/api/%74ransfers`` or ``/api//./transfers``.
    """
    values = [decoded(s) for s in strings(params)]
    normal = [normalize_url(u) for u in urls(params)]
    return " ".join([decoded(title), operation, *values, *normal])
