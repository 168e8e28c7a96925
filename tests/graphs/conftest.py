"""Fixtures for the graph tests: services with an in-memory knowledge base, a runner with
known users and an in-memory journal."""

from collections.abc import Iterator

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from assistant.db.journal import MemoryJournal
from assistant.db.users import MemoryDirectory
from assistant.policy import PolicyChecker
from assistant.runtime.memory import MemoryEngine
from assistant.services import Services, build_services
from assistant.settings import Settings
from connectors.registry import ConnectorRegistry
from connectors.sandbox import ActionLog
from graphs.chat import build_chat_graph
from graphs.context import Context
from graphs.runner import ChatRunner
from knowledge.memory import MemoryCollection
from tests.conftest import live_automations

USERS = {
    "ana": ["manager"],
    "carla": ["cfo"],
    "dan": ["ceo"],
    "lee": ["support_lead"],
    "root": ["admin"],
    "bo": [],
}


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    """Return services whose shipped library is ingested in memory: no vector store needed."""
    home = tmp_path_factory.mktemp("graphs-home")
    return build_services(Settings(home=home), collection=MemoryCollection())


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


@pytest.fixture
def people() -> MemoryDirectory:
    return MemoryDirectory(USERS)


@pytest.fixture
def people_runs(services: Services, people: MemoryDirectory) -> MemoryEngine:
    """Return the run engine approved versions go live on, deciding with the users above."""
    return MemoryEngine(db=services.engine, directory=people)


@pytest.fixture
def roles_context(
    services: Services,
    action_log: ActionLog,
    journal: MemoryJournal,
    people: MemoryDirectory,
    people_runs: MemoryEngine,
) -> Context:
    """Return a graph context with the users above and its own policy checker."""
    context = services.context()
    context.registry = ConnectorRegistry.sandboxed(action_log)
    context.directory = people
    context.automations = live_automations(services, people_runs, people)
    context.journal = journal
    # Its own checker, so a test may change the policy without touching other tests.
    context.policy = PolicyChecker()
    return context


@pytest.fixture
def roles_runner(roles_context: Context) -> Iterator[ChatRunner]:
    yield ChatRunner(build_chat_graph(InMemorySaver()), roles_context)
