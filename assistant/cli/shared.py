"""What every `flowdraft` command shares: settings, the database, JSON on stdout, errors.

Imports stay light here: ``flowdraft --help`` loads this module, so heavy packages
(sqlalchemy, pydantic settings, the command groups that need them) load only when a
command that uses them runs.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from assistant.settings import Settings

err = Console(stderr=True)

# Command groups defined elsewhere, loaded on first use: name -> (module, Typer attribute).
# Their one-line help is read from the group itself when it loads; ``--help`` on the
# main app shows the line stored here (a test checks the two agree).
LAZY_GROUPS: dict[str, tuple[str, str, str]] = {
    "tokens": (
        "assistant.cli.tokens_and_tickets",
        "tokens_app",
        "Manage bearer tokens for the JSON API.",
    ),
    "tickets": (
        "assistant.cli.tokens_and_tickets",
        "tickets_app",
        "Take in support tickets and list them.",
    ),
    "automations": (
        "assistant.cli.runs",
        "automations_app",
        "List live automations; pause, resume, shadow or run them now.",
    ),
    "runs": (
        "assistant.cli.runs",
        "runs_app",
        "Start runs of automations and follow them.",
    ),
    "inbox": (
        "assistant.cli.runs",
        "inbox_app",
        "Approvals and tasks waiting for you; decide them.",
    ),
}


def load_group(name: str) -> typer.core.TyperGroup:
    """Import the command group ``name`` and return it as a click group."""
    module, attribute, _ = LAZY_GROUPS[name]
    sub_app = getattr(importlib.import_module(module), attribute)
    group = typer.main.get_group(sub_app)
    group.name = name
    return group


class LazyGroup(TyperGroup):
    """The main command group: lists every group, imports one only when it is used."""

    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        """List own commands, then the lazily loaded groups, in registration order."""
        return [*super().list_commands(ctx), *(n for n in LAZY_GROUPS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """Return the command, loading a lazy group unless only its help line is needed."""
        if cmd_name in self.commands or cmd_name not in LAZY_GROUPS:
            return super().get_command(ctx, cmd_name)
        if self.listing:
            return TyperGroup(name=cmd_name, help=LAZY_GROUPS[cmd_name][2])
        self.commands[cmd_name] = load_group(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Write the help page from stored help lines, without importing any group."""
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


def load_settings() -> Settings:
    """Read settings, turning a bad value into a clear message and exit code 2."""
    from pydantic import ValidationError

    from assistant.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "FLOWDRAFT_" + "_".join(str(p) for p in error["loc"]).upper()
            err.print(f"[red]configuration error[/] {name}: {escape(error['msg'])}")
        raise typer.Exit(2) from None


def database() -> Engine:
    """Return an engine on the configured app database (exit 2 on bad settings)."""
    from assistant.db.engine import make_engine

    settings = load_settings()
    settings.ensure_home()
    return make_engine(settings.database_url)


def emit(data: Any) -> None:
    """Write one JSON document as a line on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()
