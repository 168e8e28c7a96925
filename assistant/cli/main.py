"""The ``flowdraft`` command line: chat, one-shot JSON modes, ingestion, eval and benchmark.

In ``--json`` modes stdout carries exactly the JSON; logs and progress go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from assistant.cli.shared import LazyGroup, database, emit, err, load_settings

app = typer.Typer(
    cls=LazyGroup,
    help="Flowdraft: turn business goals into safe, approvable automations.",
    no_args_is_help=True,
    add_completion=False,
)
log = logging.getLogger("flowdraft")


def setup_logging(verbose: bool = False) -> None:
    """Send logs to stderr; keep noisy libraries quiet."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("chromadb", "httpx", "urllib3", "llama_index"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def services(progress: bool = True) -> Any:
    """Build services, showing progress on stderr if the library needs ingesting."""
    from assistant.services import build_services

    settings = load_settings()
    if not progress:
        return build_services(settings)
    with ingest_progress() as (bar, task):
        return build_services(
            settings,
            progress=lambda done, total, name: bar.update(task, completed=done, total=total),
        )


def ingest_progress() -> Any:
    """Return a context manager yielding a stderr progress bar and its task."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def manager() -> Any:
        with Progress(
            TextColumn("[dim]library"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            yield bar, bar.add_task("ingest", total=None)

    return manager()


@app.command()
def chat(
    json_mode: Annotated[bool, typer.Option("--json", help="JSON lines on stdin/stdout.")] = False,
    thread: Annotated[str, typer.Option(help="Conversation thread to start or resume.")] = "",
    user: Annotated[str, typer.Option(help="Who is typing (recorded on decisions).")] = "",
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Chat with the assistant: draft, edit and approve workflows."""
    setup_logging(verbose)
    from rich.prompt import Prompt

    from assistant.services import open_runner

    built = services(progress=not json_mode)

    async def run() -> int:
        async with open_runner(built) as runner:
            if json_mode:
                from assistant.channels.jsonl import serve_lines

                return await serve_lines(runner, sys.stdin.buffer, emit)
            from assistant.channels.terminal import TerminalChat

            console = Console()
            chat_user = user or "you"
            session = TerminalChat(
                runner,
                thread=thread or f"cli-{uuid.uuid4().hex[:8]}",
                user=chat_user,
                console=console,
                ask=lambda prompt: Prompt.ask(f"[bold cyan]{escape(prompt)}[/]", console=console),
            )
            console.print(
                f"[dim]thread {session.thread} (resume with --thread {session.thread})[/]"
            )
            await session.run()
            return 0

    asyncio.run(run())


@app.command()
def draft(
    request: Annotated[str, typer.Argument(help="What to automate, in plain words.")],
    json_mode: Annotated[bool, typer.Option("--json")] = False,
    thread: Annotated[str, typer.Option(help="Thread id (default: a new one).")] = "",
    user: Annotated[str, typer.Option()] = "cli",
) -> None:
    """Draft a workflow for REQUEST and leave it waiting for review on a thread."""
    setup_logging()
    from assistant.services import open_runner
    from graphs.runner import InputError

    built = services(progress=not json_mode)
    thread_id = thread or f"draft-{uuid.uuid4().hex[:10]}"

    async def run() -> dict[str, Any]:
        out: dict[str, Any] = {"intent": None, "workflow": None, "question": None}
        async with open_runner(built) as runner:
            async for event in runner.send_text(thread_id, request, user):
                if event["type"] == "intent":
                    out["intent"] = event["intent"]
                    out["question"] = event["intent"].get("question")
                elif event["type"] == "draft":
                    out["workflow"] = event["workflow"]
                elif event["type"] == "message" and out["intent"]["kind"] == "clarify":
                    out["question"] = event["text"]
        return out

    try:
        out = asyncio.run(run())
    except InputError as exc:
        if json_mode:
            emit({"error": str(exc)})
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    if json_mode:
        emit(out)
    else:
        show_draft(out)
    if out["workflow"]:
        err.print(
            f"[dim]thread {thread_id} waits for review: flowdraft chat --thread {thread_id}[/]"
        )


def show_draft(out: dict[str, Any]) -> None:
    """Print a draft result for people."""
    from assistant.channels.terminal import workflow_table
    from assistant.schemas import WorkflowDraft

    console = Console()
    if out["workflow"]:
        draft_model = WorkflowDraft.model_validate(out["workflow"])
        console.print(workflow_table(draft_model))
        for source in draft_model.sources:
            console.print(f"  source: {source.title} ({source.doc})")
    elif out["question"]:
        console.print(out["question"])
    else:
        console.print(f"That reads as a {out['intent']['kind']}, not a request to automate.")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about policies, playbooks or FAQ.")],
    json_mode: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Answer a question from the knowledge library, with sources."""
    setup_logging()
    from assistant.support import answer_question
    from graphs.runner import InputError, check_text

    try:
        text = check_text(question)
    except InputError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    built = services(progress=not json_mode)
    answer = asyncio.run(answer_question(built, text))
    sources = [s.model_dump(mode="json") for s in answer.sources]
    if json_mode:
        emit({"answer": answer.text, "sources": sources})
        return
    console = Console()
    console.print(answer.text)
    for source in answer.sources:
        console.print(f"  source: {source.title} ({source.doc})")


@app.command()
def reply(
    ticket: Annotated[str, typer.Option("--ticket", help="Ticket JSON file, or - for stdin.")],
    json_mode: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Draft replies to tickets (one JSON object, a list, or JSON lines)."""
    setup_logging()
    from assistant.channels.tickets import read_tickets
    from assistant.support import draft_ticket_reply

    raw = sys.stdin.buffer.read() if ticket == "-" else read_file(Path(ticket))
    items = read_tickets(raw)
    built = services(progress=not json_mode)
    failures = 0

    async def run() -> None:
        nonlocal failures
        console = Console()
        for item in items:
            if isinstance(item, str):
                failures += 1
                emit({"error": item}) if json_mode else err.print(f"[red]{item}[/]")
                continue
            drafted = await draft_ticket_reply(built, item)
            if json_mode:
                emit({"reply": drafted.model_dump(mode="json")})
            else:
                console.rule(f"{item.id}: {item.subject}")
                console.print(drafted.body)
                console.print(f"[dim]route={drafted.route} confidence={drafted.confidence:.2f}[/]")
                for source in drafted.citations:
                    console.print(f"[dim]  source: {source.title} ({source.doc})[/]")

    asyncio.run(run())
    if failures:
        raise typer.Exit(1)


def read_file(path: Path) -> bytes:
    """Read ``path`` or exit with a clear message."""
    try:
        return path.read_bytes()
    except OSError as exc:
        err.print(f"[red]cannot read {path}: {exc.strerror}[/]")
        raise typer.Exit(2) from None


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Folders or files of markdown or text.")
    ] = None,
) -> None:
    """Ingest markdown into the knowledge base (the shipped library when no PATH is given)."""
    setup_logging()
    from assistant.services import LIBRARY_ROOT_KEY, build_services
    from knowledge.ingest import UnsupportedFile

    settings = load_settings()
    built = build_services(settings, ingest=False)
    targets = [(p, None) for p in paths] if paths else [(settings.library, LIBRARY_ROOT_KEY)]
    failed = False
    for path, key in targets:
        if not path.exists():
            err.print(f"[red]{path} does not exist[/]")
            failed = True
            continue
        try:
            with ingest_progress() as (bar, task):
                report = built.ingestor.ingest(
                    path,
                    root_key=key,
                    progress=lambda done, total, name: bar.update(
                        task, completed=done, total=total
                    ),
                )
        except UnsupportedFile as exc:
            err.print(f"[red]{escape(str(exc))}[/]")
            failed = True
            continue
        Console().print(f"{path}: {report.summary()}")
        for problem in [*report.errors, *report.skipped]:
            err.print(f"[yellow]skipped {escape(problem)}[/]")
        for sentence in report.withheld:
            err.print(f"[yellow]withheld {escape(sentence)}[/]")
    if failed:
        raise typer.Exit(1)


@app.command(name="eval")
def evaluate(
    json_mode: Annotated[bool, typer.Option("--json")] = False,
    cases: Annotated[Path | None, typer.Option(help="Folder of eval cases.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every miss.")] = False,
) -> None:
    """Score the assistant on the eval cases (intent, playbook, slots, citations, guards)."""
    setup_logging()
    from assistant.evaluation.runner import run_eval

    built = services(progress=not json_mode)
    report = asyncio.run(run_eval(built, cases))
    if json_mode:
        emit(report.as_dict())
    else:
        report.print(Console(), verbose=verbose)


@app.command()
def bench(
    chunks: Annotated[int, typer.Option(help="Synthetic chunks added to the library.")] = 10_000,
    turns: Annotated[int, typer.Option(help="Measured turns per scenario.")] = 30,
    json_mode: Annotated[bool, typer.Option("--json")] = False,
    web: Annotated[
        bool, typer.Option("--web", help="Time goal → draft in a real browser.")
    ] = False,
    slack: Annotated[
        bool, typer.Option("--slack", help="Time /flowdraft acks, idle and 20 at once.")
    ] = False,
    tickets: Annotated[
        bool, typer.Option("--tickets", help="Time reply drafting through the ticket API.")
    ] = False,
    memory: Annotated[
        bool,
        typer.Option("--memory", help="Memory of `flowdraft serve`, idle and after --runs runs."),
    ] = False,
    runs: Annotated[int, typer.Option(help="Automation runs for --memory.")] = 1000,
    scale: Annotated[
        bool,
        typer.Option("--scale", help="Tickets/s and runs/s: one replica and worker, then two."),
    ] = False,
) -> None:
    """Benchmark draft turns, resume-to-activate and ingestion against a no-op floor."""
    setup_logging()
    if scale:
        from assistant.bench.scaleout import print_table, run_scaleout_bench

        figures = run_scaleout_bench()
        emit(figures) if json_mode else print_table(figures)
        return
    if memory:
        from assistant.bench.memory import run_memory_timing

        measured = run_memory_timing(runs=runs)
        emit(measured) if json_mode else Console().print(measured)
        return
    if tickets:
        from assistant.bench.tickets import run_ticket_timing

        figures = run_ticket_timing()
        emit(figures) if json_mode else Console().print(figures)
        return
    if slack:
        from assistant.bench.slack import run_slack_timing

        timing = run_slack_timing()
        emit(timing) if json_mode else Console().print(timing)
        return
    if web:
        from assistant.bench.browser import run_web_timing

        emit(run_web_timing()) if json_mode else Console().print(run_web_timing())
        return
    from assistant.bench.drafting import run_benchmark

    result = asyncio.run(run_benchmark(chunks=chunks, turns=turns, console=err))
    if json_mode:
        emit(result)
    else:
        from assistant.bench.drafting import print_benchmark

        print_benchmark(result, Console())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web app: chat in the browser at /chat, health at /healthz."""
    setup_logging()
    import uvicorn

    from assistant.web.server import create_app
    from assistant.web.setup import first_start

    built = services(progress=True)
    if not built.settings.public_url:  # hook URLs name where this server listens
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        built.settings.public_url = f"http://{shown}:{port}"
    started = first_start(built)
    url = f"http://{host}:{port}/chat"
    console = Console(stderr=True)
    console.print(f"[bold]Flowdraft[/] is starting at [link={url}]{url}[/link]")
    if started.admin_password:
        console.print(
            f"First start: log in as [bold]admin[/] with password [bold]{started.admin_password}[/] "
            "(add people with `flowdraft users add NAME --role ROLE --password ...`)"
        )
    uvicorn.run(create_app(built), host=host, port=port, log_level="warning")


@app.command()
def slack(
    socket: Annotated[
        bool, typer.Option("--socket", help="Connect out to Slack (Socket Mode), no public URL.")
    ] = False,
) -> None:
    """Run the Slack app on its own in Socket Mode (HTTP mode is part of `flowdraft serve`)."""
    setup_logging()
    if not socket:
        err.print(
            "Over HTTP, Slack is served by `flowdraft serve` at /slack/events. "
            "Use `flowdraft slack --socket` to connect out to Slack instead."
        )
        raise typer.Exit(2)
    from assistant.channels.slack.socket import run_socket_mode
    from assistant.settings import ConnectorSettings

    credentials = ConnectorSettings()
    missing = [
        name
        for name, value in (
            ("SLACK_APP_TOKEN", credentials.slack_app_token),
            ("SLACK_BOT_TOKEN", credentials.slack_bot_token),
        )
        if not value
    ]
    if missing:
        err.print(
            f"[red]Socket Mode needs {' and '.join(missing)}[/] (an app-level token with "
            "connections:write, and the bot token); see README, 'Slack'."
        )
        raise typer.Exit(1)
    asyncio.run(run_socket_mode(services(progress=True), credentials))


users_app = typer.Typer(help="Manage users and their roles.", no_args_is_help=True)
workflows_app = typer.Typer(help="Browse stored workflow versions.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit log.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(workflows_app, name="workflows")
app.add_typer(audit_app, name="audit")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument()],
    role: Annotated[list[str], typer.Option("--role", "-r", help="Role; repeat for several.")],
    password: Annotated[str | None, typer.Option(help="Password for the web login.")] = None,
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a user with one or more roles."""
    from assistant.db.users import UserError, add_user

    roles = [part for value in role for part in value.split(",")]
    try:
        user = add_user(database(), name=name, roles=roles, password=password, email=email)
    except UserError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    Console().print(f"added {user.name} ({user.roles})")


@users_app.command("list")
def users_list(json_mode: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users and their roles."""
    from assistant.db.users import list_users

    users = list_users(database())
    if json_mode:
        emit(
            [
                {"name": u.name, "roles": u.role_list, "email": u.email, "slack": u.slack_user_id}
                for u in users
            ]
        )
        return
    if not users:
        Console().print("no users yet: add one with `flowdraft users add NAME --role ROLE`")
    for user in users:
        Console().print(
            f"{user.name}\t{', '.join(user.role_list) or '-'}\t{user.email or ''}"
            f"\t{user.slack_user_id or ''}"
        )


@users_app.command("link-slack")
def users_link_slack(
    name: Annotated[str, typer.Argument(help="Flowdraft user name.")],
    slack_user_id: Annotated[str, typer.Argument(help="Slack member id, like U0123ABCD.")],
) -> None:
    """Link a Slack account to a user, so their clicks in Slack carry the user's roles."""
    from assistant.db.users import UserError, link_slack

    try:
        user = link_slack(database(), name=name, slack_user_id=slack_user_id)
    except UserError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    Console().print(f"linked {user.name} to Slack user {user.slack_user_id}")


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a user."""
    from assistant.db.users import UserError, remove_user

    try:
        remove_user(database(), name=name)
    except UserError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    Console().print(f"removed {name}")


@workflows_app.command("list")
def workflows_list(json_mode: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List workflows with their latest version."""
    from assistant.db.versions import list_workflows

    rows = list_workflows(database())
    if json_mode:
        emit(
            [
                {"id": i, "title": t, "version": v, "thread": th, "author": a}
                for i, t, v, th, a in rows
            ]
        )
        return
    for workflow_id, title, version, thread, author in rows:
        Console().print(f"{workflow_id}\tv{version}\t{title}\t(thread {thread}, {author})")


@workflows_app.command("show")
def workflows_show(
    workflow_id: Annotated[str, typer.Argument(metavar="ID")],
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
    diff: Annotated[int | None, typer.Option(help="Show the changes from this version.")] = None,
    json_mode: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show one version of a workflow, or its diff against another version."""
    from assistant.channels.terminal import workflow_table
    from assistant.db.versions import diff_versions, get_version

    engine = database()
    shown = get_version(engine, workflow_id=workflow_id, version=version)
    if shown is None:
        err.print(f"[red]no workflow {workflow_id}{f' version {version}' if version else ''}[/]")
        raise typer.Exit(1)
    if diff is not None:
        base = get_version(engine, workflow_id=workflow_id, version=diff)
        if base is None:
            err.print(f"[red]no version {diff} of {workflow_id}[/]")
            raise typer.Exit(1)
        sys.stdout.write(diff_versions(base, shown) + "\n")
        return
    if json_mode:
        emit(shown.model_dump(mode="json"))
        return
    Console().print(workflow_table(shown))
    Console().print(f"content hash {shown.content_hash}")


@audit_app.command("show")
def audit_show(
    thread: Annotated[str | None, typer.Option(help="Only this thread.")] = None,
    json_mode: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show audit events, oldest first."""
    from assistant.db.audit import AuditLog

    records = AuditLog(database()).records(thread=thread)
    if json_mode:
        for r in records:
            emit(
                {
                    "seq": r.seq,
                    "at": r.at.isoformat(),
                    "actor": r.actor,
                    "thread": r.thread,
                    "event": r.event,
                    "content_hash": r.content_hash,
                    "data": json.loads(r.data),
                    "hash": r.hash,
                }
            )
        return
    for r in records:
        short = r.content_hash[:10] if r.content_hash else "-"
        Console().print(
            f"{r.seq:>5} {r.at:%Y-%m-%d %H:%M:%S} {r.thread:<14} {r.event:<18} {r.actor:<10} {short} {r.data}"
        )


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain against its key and anchor; name any tampering (exit 1)."""
    from assistant.db.audit import AuditLog, verify

    log = AuditLog(database())
    findings = verify(log)
    if findings:
        for finding in findings:
            Console().print(f"[red]{finding}[/]")
        raise typer.Exit(1)
    snapshot = log.snapshot()
    note = "sealed with the audit key"
    if snapshot.anchor is None and snapshot.records:
        note = "written before the audit key; the next event seals them under it"
    elif snapshot.anchor is not None and snapshot.anchor.legacy_until:
        note += f"; records 1..{snapshot.anchor.legacy_until} predate the key (plain hashes)"
    Console().print(f"audit log intact: {len(snapshot.records)} records ({note})")


@app.command()
def resume(thread: Annotated[str, typer.Argument()]) -> None:
    """Finish a thread's run that stopped midway (for example an activation cut off by a crash)."""
    setup_logging()
    from assistant.services import open_runner
    from graphs.runner import InputError

    built = services(progress=False)

    async def run() -> None:
        async with open_runner(built) as runner:
            async for event in runner.resume(thread):
                emit(event)

    try:
        asyncio.run(run())
    except InputError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


@app.command()
def worker() -> None:
    """Run automation workers only (scale-out): they take runs from the Temporal task queue."""
    setup_logging()
    from assistant.runtime.worker import run_worker
    from assistant.settings import TemporalSettings

    temporal = TemporalSettings()
    err.print(f"worker for {temporal.task_queue!r} on {temporal.target}; Ctrl-C stops it")
    from contextlib import suppress

    with suppress(KeyboardInterrupt):
        asyncio.run(run_worker(load_settings(), temporal))


@app.command()
def stats(
    json_mode: Annotated[bool, typer.Option("--json")] = False,
    days: Annotated[int | None, typer.Option(min=1, help="Only the last N days.")] = None,
) -> None:
    """Show the business signals: time to first run, run failures, overrides, acceptance."""
    from assistant.observability.stats import compute_stats, describe

    settings = load_settings()
    settings.ensure_home()
    figures = compute_stats(database(), brain=settings.model, library=settings.library, days=days)
    if json_mode:
        emit(figures)
        return
    for line in describe(figures):
        Console().print(escape(line))


@app.command()
def drift(
    json_mode: Annotated[bool, typer.Option("--json")] = False,
    notify: Annotated[
        bool, typer.Option("--alert", help="Log and post to FLOWDRAFT_DRIFT_CHANNEL if it moved.")
    ] = False,
) -> None:
    """Compare this week's reply confidence and request mix with the four weeks before."""
    from assistant.observability.drift import alert, check_drift
    from assistant.observability.settings import ObservabilitySettings
    from assistant.settings import ConnectorSettings
    from connectors.registry import build_registry

    observing, engine = ObservabilitySettings(), database()
    report = check_drift(engine, threshold=observing.drift_threshold)
    if notify:  # only Slack is used: no policy host checks apply
        registry = build_registry(
            load_settings(), ConnectorSettings(), engine=engine, host_allowed=lambda _: False
        )
        asyncio.run(alert(report, registry, observing.drift_channel))
    if json_mode:
        emit(report.as_dict())
        return
    for signal in report.signals:
        verdict = "DRIFT" if signal.drifted else "ok" if signal.change is not None else "too few"
        Console().print(f"{signal.name}: {verdict} (change {signal.change}, cases {signal.cases})")


def main() -> None:
    """Entry point for ``python -m assistant.cli``."""
    app()


if __name__ == "__main__":
    main()
