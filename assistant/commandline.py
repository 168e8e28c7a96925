"""What every `flowdraft` command shares: settings, the database, JSON on stdout, errors."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import Engine

from assistant.settings import Settings

err = Console(stderr=True)


def load_settings() -> Settings:
    """Read settings, turning a bad value into a clear message and exit code 2."""
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
