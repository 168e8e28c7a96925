"""``flowdraft automations``, ``flowdraft runs`` and ``flowdraft inbox`` (DESIGN.md contracts).

With ``--json`` stdout is exactly the JSON document; a refusal or error is
``{"error": "..."}`` (``inbox decide``: ``{"ok": false, "message": ...}``) and exit 1.
Listing and showing read the runs index; starting runs and deciding need a run engine.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn, get_args

import typer
from rich.markup import escape

from assistant.cli.shared import database, emit, err, load_settings
from assistant.runtime import service, store
from assistant.runtime.activation import (
    Change,
    ChangeRefused,
    allowed_to_change,
    change_status,
    rotate_hook_token,
)
from assistant.runtime.models import Automation, Run, RunEngine, RunStatus

automations_app = typer.Typer(
    help="List live automations; pause, resume, shadow or run them now.", no_args_is_help=True
)
runs_app = typer.Typer(help="Start runs of automations and follow them.", no_args_is_help=True)
inbox_app = typer.Typer(help="Approvals and tasks waiting for you; decide them.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
AsOption = Annotated[str, typer.Option("--as", help="Who is acting (a user name).")]


def fail(message: str, json_mode: bool, runs: service.AutomationDesk | None = None) -> NoReturn:
    """Report ``message`` as the command's error (JSON on stdout with --json) and exit 1."""
    if json_mode:
        emit({"error": message})
    err.print(f"[red]{escape(message)}[/]")
    if runs is not None:
        leave(runs, 1)
    raise typer.Exit(1)


def leave(runs: service.AutomationDesk | RunEngine, code: int = 0) -> None:
    """End a command that talked to a Temporal engine without interpreter teardown.

    The Temporal client's native threads can abort the process while Python finalizes
    ("PyGILState_Release"), after the answer is already out; the exit code must be the
    command's. In-process engines (tests) return normally.
    """
    from assistant.runtime.remote import RemoteEngine

    engine = runs.engine if isinstance(runs, service.AutomationDesk) else runs
    if isinstance(engine, RemoteEngine):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        raise typer.Exit(code)


def desk(json_mode: bool) -> service.AutomationDesk:
    """Return the automation desk over the home database and the reachable run engine."""
    from assistant.db.users import UserDirectory
    from assistant.policy.rules import load_policy

    settings = load_settings()
    db = database()
    try:
        engine = service.engine_for(settings, db=db)
    except service.NoRunEngine as exc:
        fail(str(exc), json_mode)
    return service.AutomationDesk(
        db, engine, directory=UserDirectory(db), policy=load_policy(settings.policy)
    )


def automation_line(automation: Automation) -> str:
    """Return one line describing ``automation`` for people."""
    trigger = automation.trigger
    where = trigger.cron or trigger.hook or trigger.kind
    return (
        f"{automation.id}\t{automation.status}\tv{automation.version}\t{automation.title}\t{where}"
    )


def run_line(run: Run) -> str:
    """Return one line describing ``run`` for people."""
    waiting = [s.step_id for s in run.steps if s.status == "waiting"]
    extra = f" (waiting on {', '.join(waiting)})" if waiting else ""
    return f"{run.id}\t{run.status}{extra}\t{run.automation_id} v{run.version}\t{run.started_at:%Y-%m-%d %H:%M:%S}"


def answer_run(run: Run, json_mode: bool, runs: service.AutomationDesk) -> None:
    """Print the run a command started (JSON or a line), then leave (see ``leave``)."""
    if json_mode:
        emit({"run": run.model_dump(mode="json")})
    else:
        typer.echo(run_line(run))
    leave(runs)


@automations_app.command("list")
def automations_list(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    json_mode: JsonOption = False,
) -> None:
    """List automations, newest first."""
    found = store.list_automations(database(), status=status)
    if json_mode:
        emit({"automations": [a.model_dump(mode="json") for a in found]})
        return
    if not found:
        err.print("no automations yet: approve a workflow in `flowdraft chat`")
    for automation in found:
        typer.echo(automation_line(automation))


@automations_app.command("show")
def automations_show(
    automation_id: Annotated[str, typer.Argument(metavar="ID")], json_mode: JsonOption = False
) -> None:
    """Show one automation: its trigger, the fields its events need, who approved it."""
    automation = store.get_automation(database(), automation_id=automation_id)
    if automation is None:
        fail(f"no automation {automation_id!r} (see `flowdraft automations list`)", json_mode)
    if json_mode:
        emit({"automation": automation.model_dump(mode="json")})
        return
    typer.echo(automation_line(automation))
    typer.echo(f"fields: {', '.join(automation.trigger.fields) or '-'}")
    typer.echo(f"owner {automation.owner}; approved by {', '.join(automation.approved_by) or '-'}")


def change(automation_id: str, what: Change, user: str, json_mode: bool) -> None:
    """Apply a status change as ``user``, bring its schedule in step, and report it."""
    from assistant.db.users import UserDirectory
    from assistant.runtime.schedule_sync import sync_after_change

    db = database()
    try:
        changed = change_status(
            db, automation_id=automation_id, change=what, user=user, directory=UserDirectory(db)
        )
    except (ChangeRefused, store.StoreError) as exc:
        fail(str(exc), json_mode)
    engine: RunEngine | None = None
    note = ""
    if changed.trigger.cron:
        try:
            engine = service.engine_for(load_settings(), db=db)
        except service.NoRunEngine:
            engine = None  # the schedule follows when `flowdraft serve` starts
        note = asyncio.run(sync_after_change(db, engine, changed))
    if json_mode:
        emit({"automation": changed.model_dump(mode="json")})
    else:
        typer.echo(f"{changed.title} v{changed.version} is now {changed.status}")
    if note:
        err.print(escape(note))
    if engine is not None:
        leave(engine)


@automations_app.command("pause")
def automations_pause(
    automation_id: Annotated[str, typer.Argument(metavar="ID")],
    user: AsOption,
    json_mode: JsonOption = False,
) -> None:
    """Pause: new events are refused until it is resumed; runs in flight go on."""
    change(automation_id, "pause", user, json_mode)


@automations_app.command("resume")
def automations_resume(
    automation_id: Annotated[str, typer.Argument(metavar="ID")],
    user: AsOption,
    json_mode: JsonOption = False,
) -> None:
    """Resume a paused automation: it takes events again."""
    change(automation_id, "resume", user, json_mode)


@automations_app.command("shadow")
def automations_shadow(
    automation_id: Annotated[str, typer.Argument(metavar="ID")],
    user: AsOption,
    json_mode: JsonOption = False,
) -> None:
    """Shadow: runs execute fully but their actions are recorded, not performed."""
    change(automation_id, "shadow", user, json_mode)


@automations_app.command("live")
def automations_live(
    automation_id: Annotated[str, typer.Argument(metavar="ID")],
    user: AsOption,
    json_mode: JsonOption = False,
) -> None:
    """Go live: runs perform their actions."""
    change(automation_id, "live", user, json_mode)


@automations_app.command("run-now")
def automations_run_now(
    automation_id: Annotated[str, typer.Argument(metavar="ID")],
    user: AsOption,
    json_mode: JsonOption = False,
) -> None:
    """Start a run now: a schedule fires at once; other triggers run with an empty event."""
    from assistant.db.users import UserDirectory
    from assistant.runtime.schedule_sync import run_now

    db = database()
    try:
        allowed_to_change(
            db, automation_id=automation_id, change="run", user=user, directory=UserDirectory(db)
        )
    except (ChangeRefused, store.StoreError) as exc:
        fail(str(exc), json_mode)
    runs = desk(json_mode)
    try:
        run = asyncio.run(run_now(runs, automation_id, actor=user))
    except service.RunRefused as exc:
        fail(exc.message, json_mode, runs)
    except TimeoutError as exc:
        fail(str(exc), json_mode, runs)
    answer_run(run, json_mode, runs)


@automations_app.command("rotate-token")
def automations_rotate_token(
    automation_id: Annotated[str, typer.Argument(metavar="ID")], user: AsOption
) -> None:
    """Issue a new hook token (printed once); the old one stops working at once."""
    from assistant.db.users import UserDirectory

    db = database()
    try:
        token = rotate_hook_token(
            db, automation_id=automation_id, user=user, directory=UserDirectory(db)
        )
    except (ChangeRefused, store.StoreError) as exc:
        fail(str(exc), False)
    err.print("[yellow]New hook token: store it now, it is shown only this once.[/]")
    typer.echo(token)


def read_event(source: str, json_mode: bool) -> dict[str, Any]:
    """Return the event JSON object in file ``source`` (``-`` for stdin)."""
    try:
        raw = sys.stdin.read() if source == "-" else Path(source).read_text()
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror}", json_mode)
    try:
        event = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"the event is not valid JSON: {exc.msg} (line {exc.lineno})", json_mode)
    if not isinstance(event, dict):
        fail("the event must be a JSON object", json_mode)
    return event


@runs_app.command("start")
def runs_start(
    automation_id: Annotated[str, typer.Argument(metavar="AUTOMATION_ID")],
    event: Annotated[str, typer.Option("--event", help="Event JSON file, or - for stdin.")],
    wait: Annotated[bool, typer.Option("--wait", help="Return once it ends or waits.")] = False,
    user: Annotated[str, typer.Option("--as", help="Who starts it.")] = "cli",
    json_mode: JsonOption = False,
) -> None:
    """Start a run of an automation for one event (the same event id starts one run)."""
    payload = read_event(event, json_mode)
    runs = desk(json_mode)

    async def start() -> Run:
        started = await runs.start(automation_id, payload, actor=user)
        return await runs.wait(started.run.id) if wait else started.run

    try:
        run = asyncio.run(start())
    except service.RunRefused as exc:
        fail(exc.message, json_mode, runs)
    answer_run(run, json_mode, runs)


@runs_app.command("retry")
def runs_retry(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID")],
    user: AsOption,
    json_mode: JsonOption = False,
) -> None:
    """Redo a failed run from its failed step, on the same version with the same event."""
    runs = desk(json_mode)
    try:
        run = asyncio.run(runs.retry(run_id, actor=user))
    except service.RunRefused as exc:
        fail(exc.message, json_mode, runs)
    answer_run(run, json_mode, runs)


@runs_app.command("list")
def runs_list(
    automation: Annotated[str | None, typer.Option("--automation", help="Only this one's.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only runs in this status.")
    ] = None,
    json_mode: JsonOption = False,
) -> None:
    """List runs, newest first."""
    if status is not None and status not in RUN_STATUSES:
        fail(f"no run status {status!r}; one of {', '.join(RUN_STATUSES)}", json_mode)
    found = store.list_runs(database(), automation_id=automation, status=status)
    if json_mode:
        emit({"runs": [r.model_dump(mode="json") for r in found]})
        return
    for run in found:
        typer.echo(run_line(run))


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID")], json_mode: JsonOption = False
) -> None:
    """Show one run, step by step."""
    run = store.get_run(database(), run_id=run_id)
    if run is None:
        fail(f"no run {run_id!r} (see `flowdraft runs list`)", json_mode)
    if json_mode:
        emit({"run": run.model_dump(mode="json")})
        return
    typer.echo(run_line(run))
    for step in run.steps:
        typer.echo(f"  {step.step_id}\t{step.status}\t{step.title}\t{step.detail}")


@inbox_app.callback(invoke_without_command=True)
def inbox(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--as", help="Whose inbox.")] = None,
    json_mode: JsonOption = False,
) -> None:
    """List what USER may decide (approvals and tasks of waiting runs)."""
    if ctx.invoked_subcommand is not None:
        return
    if not user:
        fail("say whose inbox: flowdraft inbox --as USER", json_mode)
    from assistant.db.users import UserDirectory
    from assistant.policy.rules import load_policy
    from assistant.runtime.inbox import items_for

    db = database()
    items = items_for(
        db, user=user, directory=UserDirectory(db), policy=load_policy(load_settings().policy)
    )
    if json_mode:
        emit({"items": [item.model_dump(mode="json") for item in items]})
        return
    if not items:
        err.print(f"nothing waits for {escape(user)}")
    for item in items:
        typer.echo(
            f"{item.id}\t{item.kind}\t{item.approver_role or '-'}\t{item.request.action_request.action}"
        )


@inbox_app.command("decide")
def inbox_decide(
    item_id: Annotated[str, typer.Argument(metavar="ITEM_ID")],
    decision: Annotated[str, typer.Argument(metavar="accept|reject")],
    user: AsOption,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the audit).")] = None,
    json_mode: JsonOption = False,
) -> None:
    """Accept or reject an inbox item; a refusal says who can decide it (exit 1)."""
    if decision not in ("accept", "reject"):
        fail(f"decide with accept or reject, not {decision!r}", json_mode)
    runs = desk(json_mode)
    outcome = asyncio.run(
        runs.decide(item_id, user=user, accept=decision == "accept", reason=reason)
    )
    if json_mode:
        emit(outcome.model_dump(mode="json"))
    else:
        (typer.echo if outcome.ok else err.print)(outcome.message)
    leave(runs, 0 if outcome.ok else 1)


def register(app: typer.Typer) -> None:
    """Add the ``automations``, ``runs`` and ``inbox`` commands to the ``flowdraft`` app."""
    app.add_typer(automations_app, name="automations")
    app.add_typer(runs_app, name="runs")
    app.add_typer(inbox_app, name="inbox")
