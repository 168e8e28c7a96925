"""Shared fixtures: one ingested knowledge base per test session, fresh homes per test."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from assistant.db.users import Directory
from assistant.runtime.live import LiveAutomations
from assistant.runtime.memory import MemoryEngine
from assistant.services import Services, build_services
from assistant.settings import Settings
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog
from graphs.chat import build_chat_graph
from graphs.runner import ChatRunner

REPO = Path(__file__).resolve().parent.parent


NO_ENGINE = socket.socket()
"""Bound for the whole session and never listening: the Temporal port every test sees
unless it starts an engine, so a probe is refused at once and no other server gets it."""


def pytest_configure(config: pytest.Config) -> None:
    """Keep servers that module- and session-scoped fixtures start (before any per-test
    environment applies) from starting a Temporal engine on this machine's default ports."""
    NO_ENGINE.bind(("127.0.0.1", 0))
    os.environ["FLOWDRAFT_TEMPORAL_ENABLED"] = "false"
    os.environ["FLOWDRAFT_TEMPORAL_PORT"] = str(NO_ENGINE.getsockname()[1])


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep every test away from the developer's own data and .env."""
    for key in list(os.environ):
        if key.startswith("FLOWDRAFT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FLOWDRAFT_HOME", str(tmp_path / "home"))
    # Servers start no Temporal engine unless a test asks for one (it costs each server a
    # dev server, and its pinned ports would clash between servers running side by side).
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_ENABLED", "false")
    # Nor does a test find an engine someone runs on this machine's default port: the CLI and
    # the chat look for one there when no server of the test started its own.
    monkeypatch.setenv("FLOWDRAFT_TEMPORAL_PORT", str(NO_ENGINE.getsockname()[1]))


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a data directory shared by the session's ingested services."""
    return tmp_path_factory.mktemp("shared-home")


@pytest.fixture(scope="session")
def chroma_services(session_home: Path) -> Services:
    """Return services over the shipped library, ingested into Chroma once for the session."""
    return build_services(Settings(home=session_home))


@pytest.fixture(scope="session")
def services(chroma_services: Services) -> Services:
    """Return the session's services (a test folder may swap in lighter ones)."""
    return chroma_services


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Return the URL of a PostgreSQL server started for this test session."""
    from tests.support.postgres import postgres_bin, postgres_server

    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed here; scripts/test installs it")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return an empty app database URL: SQLite in a temp folder, then a fresh PostgreSQL db."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    base: str = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:10]}"
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def action_log() -> ActionLog:
    """Return an empty log of sandboxed actions."""
    return ActionLog()


@pytest.fixture
def runs(services: Services) -> MemoryEngine:
    """Return an in-memory run engine over the session's database: where activations run."""
    return MemoryEngine(
        db=services.engine, policy=services.policy.policy, directory=services.directory
    )


def live_automations(
    services: Services, runs: MemoryEngine, directory: Directory | None = None
) -> LiveAutomations:
    """Return the chat's runtime over ``runs``, with hook URLs under http://flowdraft.test."""
    return LiveAutomations(
        services.engine,
        directory=directory or services.directory,
        policy=runs.policy,
        engine=lambda: runs,
        public_url="http://flowdraft.test",
    )


@pytest.fixture
def runner(services: Services, action_log: ActionLog, runs: MemoryEngine) -> Iterator[ChatRunner]:
    """Return a chat runner with in-memory checkpoints and a recording connector registry.

    Approved versions go live in the session's database and run on ``runs``.
    """
    context = services.context()
    context.registry = ConnectorRegistry.sandboxed(action_log)
    context.automations = live_automations(services, runs)
    yield ChatRunner(build_chat_graph(InMemorySaver()), context)


async def collect(stream: AsyncIterator[dict]) -> list[dict]:
    """Return every event of a runner stream."""
    return [event async for event in stream]


def of_type(events: list[dict], kind: str) -> list[dict]:
    """Return the events of one type."""
    return [e for e in events if e["type"] == kind]
