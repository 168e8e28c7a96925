"""Read tickets given to the CLI: one JSON object, a JSON list, or JSON lines."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from assistant.schemas import Ticket
from assistant.strict_json import JsonInputError, load_json

MAX_TICKET_BYTES = 1_000_000


def parse_ticket(data: Any, where: str) -> Ticket | str:
    """Return a ``Ticket`` or a message saying what is wrong with it."""
    if not isinstance(data, dict):
        return f"{where}: a ticket must be a JSON object"
    try:
        return Ticket.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "ticket"
        return f"{where}: {field}: {first['msg']}"


def read_tickets(raw: bytes) -> list[Ticket | str]:
    """Parse tickets from ``raw``; each bad one becomes an error string in its place."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"input is not valid UTF-8 (byte {exc.start})"]
    stripped = text.strip()
    if not stripped:
        return ["no ticket given"]
    try:
        whole = load_json(stripped, what="input")
    except JsonInputError:
        whole = None
    if isinstance(whole, dict):
        return [parse_ticket(whole, "ticket")]
    if isinstance(whole, list):
        return [parse_ticket(item, f"ticket {i}") for i, item in enumerate(whole, 1)]
    out: list[Ticket | str] = []
    for number, line in enumerate(stripped.splitlines(), 1):
        if not line.strip():
            continue
        if len(line.encode()) > MAX_TICKET_BYTES:
            out.append(f"line {number}: ticket is larger than {MAX_TICKET_BYTES:,} bytes")
            continue
        try:
            out.append(parse_ticket(load_json(line, what="ticket"), f"line {number}"))
        except JsonInputError as exc:
            out.append(f"line {number}: {exc}")
    return out
