"""The real server app on loopback, in-process, over services with a fresh app database."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from assistant.db.engine import make_engine
from assistant.db.journal import SqlJournal
from assistant.db.users import UserDirectory
from assistant.services import Services
from assistant.settings import ConnectorSettings
from assistant.web.process import free_port
from connectors.registry import build_registry


def services_with(
    services: Services, home: Path, credentials: ConnectorSettings, **settings: Any
) -> Services:
    """Return ``services`` with a fresh app database in ``home`` and connectors built from
    ``credentials`` (and ``settings`` overrides), sharing the session's ingested store."""
    home.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{home / 'flowdraft.db'}"
    updated = services.settings.model_copy(update={"home": home, "database_url": url, **settings})
    engine = make_engine(url)
    registry = build_registry(
        updated,
        credentials,
        engine=engine,
        host_allowed=services.policy.policy.destinations.host_allowed,
    )
    return dataclasses.replace(
        services,
        settings=updated,
        engine=engine,
        registry=registry,
        directory=UserDirectory(engine),
        journal=SqlJournal(engine),
    )


@contextmanager
def serving_app(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread (lifespan on); yield its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
