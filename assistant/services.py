"""The one place where Flowdraft's services are built from settings and wired together."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from assistant.brain import build_brain
from assistant.brain.base import Brain
from assistant.db.audit_seal import bind_audit_seal
from assistant.db.engine import make_engine, setup_lock
from assistant.db.journal import SqlJournal
from assistant.db.users import Directory, UserDirectory
from assistant.observability.journal import ObservedJournal
from assistant.observability.logs import use_log_format
from assistant.observability.metrics import library_ingested
from assistant.observability.tracing import setup_tracing
from assistant.observability.turns import ObservedGraph
from assistant.policy import PolicyChecker, load_policy
from assistant.settings import ConnectorSettings, Settings
from connectors.registry import ConnectorRegistry, build_registry
from graphs.chat import build_chat_graph
from graphs.checkpoints import open_checkpointer
from graphs.context import Context
from graphs.runner import ChatRunner
from knowledge.embeddings import Embedder, build_embedder
from knowledge.ingest import Ingestor, IngestReport, ProgressFn
from knowledge.library import cached_library
from knowledge.retrieval import Retriever
from knowledge.screening import DocumentScreen
from knowledge.store import chroma_client, open_collection

if TYPE_CHECKING:
    from assistant.runtime.live import LiveAutomations
    from assistant.runtime.models import RunEngine

log = logging.getLogger(__name__)

LIBRARY_ROOT_KEY = "library"
"""Root key of the shipped library's chunks: stable across checkouts and machines."""


@dataclass
class Services:
    """Everything a channel needs, built once per process."""

    settings: Settings
    embedding: Embedder
    collection: Any
    ingestor: Ingestor
    retriever: Retriever
    brain: Brain
    registry: ConnectorRegistry
    policy: PolicyChecker
    engine: Engine
    directory: Directory
    journal: SqlJournal
    runs: RunEngine | None = None
    """The run engine this process serves (``flowdraft serve`` sets it); None: look for one
    (a running server's, or ``FLOWDRAFT_TEMPORAL_ADDRESS``) when a run must start."""

    def run_engine(self) -> RunEngine:
        """Return the run engine to use now; raise ``NoRunEngine`` saying how to start one."""
        from assistant.runtime.service import engine_for

        if self.runs is not None:
            return self.runs
        return engine_for(self.settings, db=self.engine)

    def automations(self) -> LiveAutomations:
        """Return the runtime as the chat graph uses it (activation and test runs)."""
        from assistant.runtime.live import LiveAutomations

        return LiveAutomations(
            self.engine,
            directory=self.directory,
            policy=self.policy.policy,
            engine=self.run_engine,
            public_url=self.settings.base_url,
            timezone=self.settings.timezone,
        )

    def context(self) -> Context:
        """Return the graph runtime context over these services."""
        return Context(
            automations=self.automations(),
            brain=self.brain,
            retriever=self.retriever,
            registry=self.registry,
            policy=self.policy,
            directory=self.directory,
            journal=self.journal,
            helpdesk_url=self.settings.helpdesk_url,
        )

    def ingest_library(self, progress: ProgressFn | None = None) -> IngestReport:
        """Bring the shipped library into the vector store (a no-op when unchanged)."""
        started = time.perf_counter()
        report = self.ingestor.ingest(
            self.settings.library, root_key=LIBRARY_ROOT_KEY, progress=progress
        )
        library_ingested(report.chunks_written, time.perf_counter() - started)
        return report


def build_services(
    settings: Settings | None = None,
    *,
    brain: Brain | None = None,
    registry: ConnectorRegistry | None = None,
    ingest: bool = True,
    progress: ProgressFn | None = None,
    collection: Any | None = None,
) -> Services:
    """Build the services from ``settings``; ingest the shipped library on first use.

    ``collection`` replaces the Chroma collection the settings name, e.g. with a
    ``knowledge.memory.MemoryCollection`` so that tests need no vector store.
    """
    settings = settings or Settings()
    settings.ensure_home()
    setup_tracing()  # only when OTEL_EXPORTER_OTLP_ENDPOINT or FLOWDRAFT_TRACING asks for it
    use_log_format()  # JSON lines when FLOWDRAFT_LOG_FORMAT=json
    policy = PolicyChecker(load_policy(settings.policy))
    engine = make_engine(settings.database_url)
    bind_audit_seal(engine, settings)
    embedding = build_embedder(settings.embeddings)
    if collection is None:
        client = chroma_client(path=settings.chroma_path, url=settings.chroma_url)
        collection = open_collection(client, settings.collection)
    ingestor = Ingestor(
        collection,
        embedding,
        screen=DocumentScreen(policy.policy.injection),
        max_bytes=settings.ingest_max_bytes,
    )
    library = list(cached_library(str(settings.library)))
    registry = registry or build_registry(
        settings,
        ConnectorSettings(),
        engine=engine,
        host_allowed=policy.policy.destinations.host_allowed,
    )
    services = Services(
        settings=settings,
        embedding=embedding,
        collection=collection,
        ingestor=ingestor,
        retriever=Retriever(collection, embedding),
        brain=brain or build_brain(settings, library, embedding, policy.policy),
        registry=registry,
        policy=policy,
        engine=engine,
        directory=UserDirectory(engine),
        journal=ObservedJournal(engine),
    )
    if ingest:
        report = services.ingest_library(progress)
        if report.chunks_written or report.removed:
            log.info("library ingested: %s", report.summary())
    return services


@asynccontextmanager
async def open_checkpoints(settings: Settings) -> AsyncIterator[Any]:
    """Open the chat's checkpointer; replicas starting together set its tables up in turn."""
    async with AsyncExitStack() as stack:
        async with setup_lock(settings.database_url):
            saver = await stack.enter_async_context(open_checkpointer(settings))
        yield saver


@asynccontextmanager
async def open_runner(services: Services) -> AsyncIterator[ChatRunner]:
    """Yield a chat runner whose threads are checkpointed in ``FLOWDRAFT_HOME``."""
    async with open_checkpoints(services.settings) as saver:
        yield ChatRunner(ObservedGraph(build_chat_graph(saver)), services.context())
