"""``flowdraft tokens`` and ``flowdraft tickets`` through typer's runner, on the home database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from assistant.cli.tokens_and_tickets import tickets_app, tokens_app
from assistant.db.engine import make_engine
from assistant.db.tickets import find_ticket
from assistant.db.tokens import verify_token
from assistant.settings import Settings

TICKET = {
    "id": "ZD-4711",
    "subject": "Refund for order 1042",
    "body": "The blender arrived broken.",
    "customer": {"email": "maria@example.com", "name": "Maria Lopez"},
}


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def home_engine() -> Engine:
    """The database the commands use (FLOWDRAFT_HOME is a fresh folder per test)."""
    return make_engine(Settings().database_url)


def test_token_create_list_revoke(cli: CliRunner) -> None:
    created = cli.invoke(tokens_app, ["create", "zendesk"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("fd_") and "\n" not in token
    assert "shown only this once" in created.stderr
    assert verify_token(home_engine(), token) is not None

    listed = cli.invoke(tokens_app, ["list", "--json"])
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["active"], r["created_by"]) for r in rows] == [("zendesk", True, "cli")]
    assert token not in listed.stdout and rows[0]["last_used_at"] is not None
    assert "zendesk\tactive" in cli.invoke(tokens_app, ["list"]).stdout

    revoked = cli.invoke(tokens_app, ["revoke", "zendesk"])
    assert revoked.exit_code == 0 and "revoked zendesk" in revoked.stderr
    assert verify_token(home_engine(), token) is None
    assert json.loads(cli.invoke(tokens_app, ["list", "--json"]).stdout)[0]["active"] is False
    assert "revoked" in cli.invoke(tokens_app, ["list"]).stdout


def test_token_errors_exit_1_with_a_message(cli: CliRunner) -> None:
    unknown = cli.invoke(tokens_app, ["revoke", "ghost"])
    assert unknown.exit_code == 1 and "no token called 'ghost'" in unknown.stderr
    assert cli.invoke(tokens_app, ["create", "ci"]).exit_code == 0
    taken = cli.invoke(tokens_app, ["create", "ci"])
    assert taken.exit_code == 1 and "already exists" in taken.stderr and taken.stdout == ""
    bad = cli.invoke(tokens_app, ["create", "two words"])
    assert bad.exit_code == 1 and "not a usable token name" in bad.stderr


def test_add_ticket_from_options_prints_its_reference(cli: CliRunner) -> None:
    args = ["add", "--subject", "Login fails", "--body", "Since Monday.", "--email", "a@b.example"]
    added = cli.invoke(tickets_app, [*args, "--name", "Ana", "--id", "T-1", "--channel", "chat"])
    assert added.exit_code == 0, added.output
    assert added.stdout == "HD-1\n"
    row = find_ticket(home_engine(), ref="T-1")
    assert row is not None and (row.source, row.customer_name, row.channel) == (
        "cli",
        "Ana",
        "chat",
    )

    again = cli.invoke(tickets_app, [*args, "--id", "T-1", "--json"])
    assert again.exit_code == 0
    assert json.loads(again.stdout) == {"ticket": "HD-1", "id": "T-1", "status": "duplicate"}

    generated = cli.invoke(tickets_app, [*args, "--json"])
    out = json.loads(generated.stdout)
    assert out["ticket"] == "HD-2" and out["id"].startswith("cli-") and out["status"] == "queued"


def test_add_tickets_from_a_file_or_stdin(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "ticket.json"
    path.write_text(json.dumps(TICKET))
    from_file = cli.invoke(tickets_app, ["add", "--file", str(path)])
    assert from_file.exit_code == 0 and from_file.stdout == "HD-1\n"

    lines = "\n".join(json.dumps({**TICKET, "id": f"ZD-{n}"}) for n in (1, 2))
    from_stdin = cli.invoke(tickets_app, ["add", "--file", "-", "--json"], input=lines)
    assert from_stdin.exit_code == 0
    assert [json.loads(line)["ticket"] for line in from_stdin.stdout.splitlines()] == [
        "HD-2",
        "HD-3",
    ]

    listed = json.loads(cli.invoke(tickets_app, ["list", "--json"]).stdout)
    assert [(t["ticket"], t["id"], t["source"]) for t in listed] == [
        ("HD-1", "ZD-4711", "cli"),
        ("HD-2", "ZD-1", "cli"),
        ("HD-3", "ZD-2", "cli"),
    ]
    assert listed[0]["customer"] == TICKET["customer"]
    table = cli.invoke(tickets_app, ["list", "--limit", "1"]).stdout
    assert table.startswith("HD-3\tZD-2\topen\tcli\tmaria@example.com\t")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "not valid JSON"),
        (json.dumps({**TICKET, "customer": {}}), "customer.email"),
        ("", "no ticket given"),
    ],
)
def test_bad_file_exits_1_with_a_message(
    cli: CliRunner, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "ticket.json"
    if content is not None:
        path.write_text(content)
    result = cli.invoke(tickets_app, ["add", "--file", str(path)])
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert result.stdout == ""
    assert json.loads(cli.invoke(tickets_app, ["list", "--json"]).stdout) == []


def test_one_bad_ticket_in_a_file_does_not_stop_the_others(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps([TICKET, {"id": "broken"}]))
    result = cli.invoke(tickets_app, ["add", "--file", str(path)])
    assert result.exit_code == 1 and "ticket 2: subject" in result.stderr
    assert result.stdout == "HD-1\n"


def test_add_needs_either_options_or_a_file(cli: CliRunner, tmp_path: Path) -> None:
    missing = cli.invoke(tickets_app, ["add", "--subject", "Hi"])
    assert missing.exit_code == 1 and "missing --body, --email" in missing.stderr
    both = cli.invoke(tickets_app, ["add", "--file", str(tmp_path / "x"), "--subject", "Hi"])
    assert both.exit_code == 1 and "either --file" in both.stderr


def test_a_token_acts_as_a_user_and_bad_intake_names_the_field(cli: CliRunner) -> None:
    from assistant.db.users import add_user

    ghost = cli.invoke(tokens_app, ["create", "ghosted", "--user", "ghost"])
    assert ghost.exit_code == 1 and "no user called 'ghost'" in ghost.stderr
    add_user(home_engine(), name="sam", roles=["support"])
    created = cli.invoke(tokens_app, ["create", "helpdesk", "--user", "sam"])
    assert created.exit_code == 0 and "acts as sam" in created.stderr
    rows = json.loads(cli.invoke(tokens_app, ["list", "--json"]).stdout)
    assert [(r["name"], r["user"]) for r in rows] == [("helpdesk", "sam")]

    bad = ["add", "--subject", "s", "--body", "b", "--no-draft"]
    email = cli.invoke(tickets_app, [*bad, "--email", "maria-at-example.com"])
    assert email.exit_code == 1 and "customer.email" in email.stderr
    slack = cli.invoke(
        tickets_app, [*bad, "--email", "m@example.com", "--channel", "slack:G0PRIVATE:1.2"]
    )
    assert slack.exit_code == 1 and "'G0PRIVATE'" in slack.stderr and "channel:" in slack.stderr
    assert json.loads(cli.invoke(tickets_app, ["list", "--json"]).stdout) == []
    retry = cli.invoke(tickets_app, ["retry", "HD-1", "--as", "sam"])
    assert retry.exit_code == 1 and "no drafted reply" in retry.stderr


def test_the_queue_marks_a_failed_delivery_with_its_reason(cli: CliRunner) -> None:
    from assistant.db.engine import session_scope
    from assistant.db.tables import TicketReply

    for n in (1, 2):
        args = ["add", "--subject", f"Order {n}", "--body", "b", "--email", "a@b.example"]
        assert cli.invoke(tickets_app, [*args, "--id", f"T-{n}", "--no-draft"]).exit_code == 0
    with session_scope(home_engine()) as session:
        session.add(TicketReply(ticket_id=1, thread="ticket-HD-1", drafted_body="Hi"))
        session.add(
            TicketReply(
                ticket_id=2,
                thread="ticket-HD-2",
                drafted_body="Hello",
                decision="accepted",
                status="failed",
                delivery="failed: cannot reach SMTP server",
            )
        )

    lines = cli.invoke(tickets_app, ["queue"]).stdout.splitlines()
    assert lines[0].startswith("HD-1\t") and "FAILED" not in lines[0]
    assert lines[1].startswith("HD-2\t") and lines[1].endswith(
        "FAILED, retry with `tickets retry`: failed: cannot reach SMTP server"
    )
    listed = json.loads(cli.invoke(tickets_app, ["queue", "--json"]).stdout)
    assert [(i["ticket"], i["status"], i["delivery"]) for i in listed] == [
        ("HD-1", "waiting", ""),
        ("HD-2", "failed", "failed: cannot reach SMTP server"),
    ]
