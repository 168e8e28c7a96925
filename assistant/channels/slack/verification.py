"""Checks on a request to /slack/events before anything parses it: signature, time, shape.

The signature is checked over the raw bytes first, so an unsigned or forged request gets a
401 however malformed it is; a signed one that bolt could not parse gets a 400 naming why.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from assistant.strict_json import JsonInputError, load_json

MAX_SLACK_BODY_BYTES = 1_000_000
"""Far over any command, click or event Slack sends."""
MAX_CLOCK_SKEW_SECONDS = 300
"""Slack's own rule: a request signed more than five minutes ago may be a replay."""


@dataclass(frozen=True)
class Refusal:
    """Why a request to the Slack endpoint is refused, as an HTTP status and a message."""

    status: int
    message: str


def check_slack_request(
    body: bytes, headers: Mapping[str, str], *, secret: str, now: float
) -> Refusal | None:
    """Return why ``body`` must be refused, or None if bolt may take it.

    ``headers`` is case-insensitive (Starlette's ``Headers``) or lower-cased.
    """
    if len(body) > MAX_SLACK_BODY_BYTES:
        return Refusal(413, f"Slack request is larger than {MAX_SLACK_BODY_BYTES:,} bytes")
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        return Refusal(401, "unsigned Slack request: the signature or its timestamp is missing")
    if not hmac.compare_digest(expected_signature(secret, timestamp, body), signature):
        return Refusal(401, "invalid Slack signature: check SLACK_SIGNING_SECRET")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return Refusal(
            400,
            "the request timestamp (X-Slack-Request-Timestamp) must be Unix time in seconds, "
            f"not {timestamp[:20]!r}",
        )
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return Refusal(401, "stale Slack request: its timestamp is over five minutes off")
    problem = shape_problem(body, headers.get("content-type", ""))
    return Refusal(400, problem) if problem else None


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Return Slack's v0 signature of ``body`` sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def shape_problem(body: bytes, content_type: str) -> str | None:
    """Return why bolt could not parse ``body``, or None.

    Bolt reads JSON when the content type says so or the body starts with ``{``, and a
    form's ``payload`` field as JSON; each must be a JSON object.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"Slack request body is not valid UTF-8 (byte {exc.start})"
    if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
        return object_problem(body, "Slack request body")
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        return object_problem(form["payload"].encode(), "Slack payload")
    return None


def object_problem(raw: bytes, what: str) -> str | None:
    """Return why ``raw`` is not a clean JSON object, or None."""
    try:
        data = load_json(raw, what=what)
    except JsonInputError as exc:
        return str(exc)
    return None if isinstance(data, dict) else f"{what} must be a JSON object"
