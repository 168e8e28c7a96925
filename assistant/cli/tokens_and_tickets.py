"""``flowdraft tokens`` (API tokens) and ``flowdraft tickets`` (ticket intake) commands.

Registered on the main app by ``assistant.cli``; stdout carries only results (the token,
references, ``--json`` documents), messages go to stderr.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from assistant.cli.shared import database, emit, err, load_settings
from assistant.db.tables import ApiToken
from assistant.db.tickets import TicketError, describe_ticket, list_tickets, store_ticket, utc_iso
from assistant.db.tokens import TokenError, create_token, list_tokens, revoke_token
from assistant.policy import load_policy
from assistant.schemas import Customer, Ticket
from connectors.tickets import ticket_label

tokens_app = typer.Typer(help="Manage bearer tokens for the JSON API.", no_args_is_help=True)
tickets_app = typer.Typer(help="Take in support tickets and list them.", no_args_is_help=True)


def fail(message: str) -> typer.Exit:
    """Print ``message`` in red on stderr and return the exit to raise (code 1)."""
    err.print(f"[red]{escape(message)}[/]")
    return typer.Exit(1)


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="Who or what will use it.")],
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="The user the token acts as (needed to work the desk: queue, decisions). "
            "Without it the token only takes tickets in.",
        ),
    ] = None,
) -> None:
    """Create a token and print it once: store it now, it cannot be shown again."""
    try:
        _, plaintext = create_token(database(), name=name, owner=user, created_by="cli")
    except TokenError as exc:
        raise fail(str(exc)) from None
    acts = f" It acts as {escape(user)}." if user else " It belongs to no user: intake only."
    err.print(
        f"[yellow]Token {escape(name)!r} created.{acts} "
        "Store it now: it is shown only this once.[/]\n"
        "[dim]Send it as 'Authorization: Bearer <token>'; "
        f"revoke it with `flowdraft tokens revoke {escape(name)}`.[/]"
    )
    typer.echo(plaintext)


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument()]) -> None:
    """Revoke a token: requests carrying it are refused from now on."""
    try:
        revoke_token(database(), name=name, revoked_by="cli")
    except TokenError as exc:
        raise fail(str(exc)) from None
    err.print(f"revoked {escape(name)}")


@tokens_app.command("list")
def tokens_list(json_mode: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List tokens (never their secrets), revoked ones included."""
    tokens = list_tokens(database())
    if json_mode:
        emit([token_summary(token) for token in tokens])
        return
    if not tokens:
        err.print("no tokens yet: create one with `flowdraft tokens create NAME`")
    for token in tokens:
        summary = token_summary(token)
        state = "active" if summary["active"] else f"revoked {summary['revoked_at']}"
        used = summary["last_used_at"] or "never used"
        owner = token.owner or "(no user: intake only)"
        typer.echo(f"{token.name}\t{state}\tcreated {summary['created_at']}\t{used}\t{owner}")


def token_summary(token: ApiToken) -> dict[str, Any]:
    """Return what may be shown about a token."""
    return {
        "name": token.name,
        "user": token.owner,
        "active": token.revoked_at is None,
        "created_at": utc_iso(token.created_at),
        "created_by": token.created_by,
        "last_used_at": utc_iso(token.last_used_at) if token.last_used_at else None,
        "revoked_at": utc_iso(token.revoked_at) if token.revoked_at else None,
    }


@tickets_app.command("add")
def tickets_add(
    subject: Annotated[str | None, typer.Option(help="Ticket subject.")] = None,
    body: Annotated[str | None, typer.Option(help="What the customer wrote.")] = None,
    email: Annotated[str | None, typer.Option(help="Customer email.")] = None,
    name: Annotated[str | None, typer.Option(help="Customer name.")] = None,
    ticket_id: Annotated[
        str | None, typer.Option("--id", help="Ticket id (default: a new cli-... id).")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Where it came in (email, chat...).")] = None,
    file: Annotated[
        str | None,
        typer.Option("--file", help="Ticket JSON (object, list or JSON lines), or - for stdin."),
    ] = None,
    json_mode: Annotated[bool, typer.Option("--json")] = False,
    draft: Annotated[
        bool, typer.Option(help="Draft the reply now (else the server's next start does).")
    ] = True,
) -> None:
    """Store a ticket (from options or --file) once per id, draft its reply, print its reference."""
    tickets: list[Ticket | str]
    if file is not None:
        if any(v is not None for v in (subject, body, email, name, ticket_id, channel)):
            raise fail("give either --file or --subject/--body/--email, not both")
        tickets = tickets_from_file(file)
    else:
        missing = [
            f"--{n}"
            for n, v in (("subject", subject), ("body", body), ("email", email))
            if v is None
        ]
        if missing:
            raise fail(f"missing {', '.join(missing)} (or give the ticket as JSON with --file)")
        tickets = [
            Ticket(
                id=ticket_id or f"cli-{uuid.uuid4().hex[:12]}",
                subject=subject or "",
                body=body or "",
                customer=Customer(email=email or "", name=name),
                channel=channel,
            )
        ]
    engine = database()
    destinations = load_policy(load_settings().policy).destinations
    failures = 0
    stored: list[int] = []
    for item in tickets:
        if isinstance(item, str):
            failures += 1
            err.print(f"[red]{escape(item)}[/]")
            continue
        try:
            row, created = store_ticket(
                engine, item, source="cli", actor="cli", destinations=destinations
            )
        except TicketError as exc:
            failures += 1
            err.print(f"[red]ticket {escape(item.id)!r}: {escape(str(exc))}[/]")
            continue
        reference = ticket_label(row.id or 0)
        if created and row.id is not None:
            stored.append(row.id)
        if json_mode:
            emit(
                {
                    "ticket": reference,
                    "id": row.external_id,
                    "status": "queued" if created else "duplicate",
                }
            )
        else:
            typer.echo(reference)
            if not created:
                err.print(f"[dim]ticket {escape(item.id)!r} was already stored as {reference}[/]")
    if stored and draft:

        async def draft_all(desk: Any) -> None:
            for row_id in stored:
                record = await desk.draft(row_id)
                err.print(
                    f"[dim]{ticket_label(row_id)}: {record.category}/{record.priority}, "
                    f"route {record.route}, confidence {record.confidence:.2f}[/]"
                )

        with_desk(draft_all)
    if failures:
        raise typer.Exit(1)


def tickets_from_file(file: str) -> list[Ticket | str]:
    """Read tickets from ``file`` (or stdin for -); exit 1 if it cannot be read."""
    from assistant.channels.tickets import read_tickets

    if file == "-":
        return read_tickets(sys.stdin.buffer.read())
    try:
        return read_tickets(Path(file).read_bytes())
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None


@tickets_app.command("list")
def tickets_list(
    json_mode: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Show only the newest N.")] = 50,
) -> None:
    """List tickets taken in from customers, oldest first."""
    rows = list_tickets(database(), limit=limit)
    if json_mode:
        emit([describe_ticket(row) for row in rows])
        return
    if not rows:
        err.print("no tickets yet: add one with `flowdraft tickets add` or POST /api/tickets")
    for row in rows:
        customer = row.customer_email or ""
        typer.echo(
            f"{ticket_label(row.id or 0)}\t{row.external_id}\t{row.status}\t{row.source}"
            f"\t{customer}\t{row.subject}"
        )


def with_desk(work: Any) -> Any:
    """Run ``await work(desk)`` with the support desk over the configured services."""
    import asyncio

    from assistant.services import build_services, open_runner
    from assistant.support.desk import SupportDesk

    services = build_services(load_settings())

    async def run() -> Any:
        async with open_runner(services) as runner:
            return await work(SupportDesk(services, runner))

    return asyncio.run(run())


def decide(work: Any) -> None:
    """Apply one agent decision, printing the outcome or the reason it was refused."""
    from assistant.support.desk import DeskError

    try:
        record = with_desk(work)
    except DeskError as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"{ticket_label(record.ticket_id)}\t{record.decision}\t{record.status}\t{record.delivery}"
    )


@tickets_app.command("queue")
def tickets_queue(json_mode: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List tickets whose drafted reply waits for an agent or a retry, most urgent first."""

    async def waiting(desk: Any) -> list[Any]:
        return desk.queue()

    items = with_desk(waiting)
    if json_mode:
        emit(
            [
                {
                    "ticket": item.ref,
                    "id": item.ticket.id,
                    "subject": item.ticket.subject,
                    "route": item.record.route,
                    "confidence": item.record.confidence,
                    "category": item.record.category,
                    "priority": item.record.priority,
                    "status": item.record.status,
                    "delivery": item.record.delivery,
                    "draft": item.record.drafted_body,
                    "citations": [c.model_dump(mode="json") for c in item.citations],
                }
                for item in items
            ]
        )
        return
    if not items:
        err.print("the queue is empty")
    for item in items:
        # A failed delivery is marked with its reason; only ``tickets retry`` is left for it.
        failed = (
            f"\tFAILED, retry with `tickets retry`: {item.record.delivery}"
            if item.record.status == "failed"
            else ""
        )
        typer.echo(
            f"{item.ref}\t{item.record.priority}\t{item.record.route}\t"
            f"{item.record.confidence:.2f}\t{item.ticket.subject}{failed}"
        )


@tickets_app.command("accept")
def tickets_accept(
    ref: Annotated[str, typer.Argument(help="HD-12 or the ticket's own id.")],
    agent: Annotated[str, typer.Option("--as", help="The agent deciding.")],
) -> None:
    """Send the drafted reply as it is."""
    decide(lambda desk: desk.accept(ref, agent))


@tickets_app.command("edit")
def tickets_edit(
    ref: Annotated[str, typer.Argument(help="HD-12 or the ticket's own id.")],
    agent: Annotated[str, typer.Option("--as", help="The agent deciding.")],
    body: Annotated[str, typer.Option(help="The reply to send instead of the draft.")],
) -> None:
    """Send the agent's version of the reply."""
    decide(lambda desk: desk.edit(ref, agent, body))


@tickets_app.command("reject")
def tickets_reject(
    ref: Annotated[str, typer.Argument(help="HD-12 or the ticket's own id.")],
    agent: Annotated[str, typer.Option("--as", help="The agent deciding.")],
    reason: Annotated[str, typer.Option(help="Why the draft is not sent.")],
) -> None:
    """Discard the drafted reply, with the reason."""
    decide(lambda desk: desk.reject(ref, agent, reason))


@tickets_app.command("retry")
def tickets_retry(
    ref: Annotated[str, typer.Argument(help="HD-12 or the ticket's own id.")],
    agent: Annotated[str, typer.Option("--as", help="The agent retrying.")],
) -> None:
    """Send a reply whose delivery failed again (same idempotency key: no duplicate)."""
    decide(lambda desk: desk.retry(ref, agent))


@tickets_app.command("stats")
def tickets_stats(json_mode: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show acceptance, edit and rejection rates, edit size and time to first response."""
    from assistant.support.metrics import desk_stats

    stats = desk_stats(database())
    if json_mode:
        emit(stats)
        return
    console = Console()
    console.print(
        f"{stats['tickets']} tickets, {stats['waiting']} waiting, "
        f"{stats['routed_to_human']} routed to a person"
    )
    rows = [("overall", stats["overall"]), *stats["agents"].items()]
    for name, figures in rows:
        console.print(
            f"[bold]{escape(name)}[/]: " + ", ".join(f"{k} {v}" for k, v in figures.items())
        )
