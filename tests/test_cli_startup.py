"""``flowdraft --help`` starts without the heavy packages, and still lists every group."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from assistant.cli import app
from assistant.cli.shared import LAZY_GROUPS, load_group

HEAVY = (
    "langgraph",
    "chromadb",
    "llama_index",
    "temporalio",
    "chainlit",
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy",
    "sqlmodel",
)

PROBE = """
import json, sys
from assistant.cli import app
try:
    app(["--help"])
except SystemExit:
    pass
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:]))
sys.stderr.write(json.dumps(heavy))
"""


def test_help_does_not_import_heavy_packages() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *HEAVY], capture_output=True, timeout=60, check=True
    )
    assert b"Commands" in done.stdout
    assert json.loads(done.stderr.decode().strip().splitlines()[-1]) == []


def test_help_lists_every_lazy_group_with_its_own_help_line() -> None:
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    for name, (_, _, line) in LAZY_GROUPS.items():
        group = load_group(name)
        assert group.help == line  # the stored line is the group's own help
        assert f"{name} " in shown and line in shown


def test_lazy_group_runs_its_commands() -> None:
    result = CliRunner().invoke(app, ["tokens", "--help"])
    assert result.exit_code == 0
    assert "create" in result.output and "Manage bearer tokens" in result.output
