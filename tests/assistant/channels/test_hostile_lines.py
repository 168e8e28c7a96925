"""Hostile JSON given to the CLI (``tickets add``, ``chat --json``): a message per bad input,
never a traceback, and nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.channels.jsonl import parse_line
from assistant.cli.tokens_and_tickets import tickets_app
from graphs.runner import InputError

TICKET = {
    "id": "ZD-1",
    "subject": "Refund",
    "body": "Broken blender.",
    "customer": {"email": "maria@example.com"},
}
HOSTILE = [
    (b"[" * 3000 + b"]" * 3000, "nested deeper than"),
    (json.dumps({**TICKET, "subject": "S"}).encode().replace(b'"S"', b'"\\ud800"'), "surrogate"),
    (json.dumps({**TICKET, "subject": "S"}).encode().replace(b'"S"', b"NaN"), "NaN"),
    (json.dumps({**TICKET, "subject": "S"}).encode().replace(b'"S"', b"1" * 5000), "digits"),
    (b'{"id": "\xc0\xaf"}', "not valid UTF-8"),
]


@pytest.mark.parametrize(("content", "message"), HOSTILE, ids=[m for _, m in HOSTILE])
def test_a_hostile_ticket_file_exits_1_with_a_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "ticket.json"
    path.write_bytes(content)
    cli = CliRunner()
    result = cli.invoke(tickets_app, ["add", "--file", str(path)])
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert json.loads(cli.invoke(tickets_app, ["list", "--json"]).stdout) == []


@pytest.mark.parametrize(("content", "message"), HOSTILE, ids=[m for _, m in HOSTILE])
def test_a_hostile_chat_line_is_an_input_error(content: bytes, message: str) -> None:
    line = content.replace(b'"id": "ZD-1"', b'"text": "hi"')
    with pytest.raises(InputError, match=message):
        parse_line(line)
