"""Chat history for the browser: Chainlit's SQLAlchemy data layer on the app database.

Chainlit documents its schema for PostgreSQL; the same tables are created here with types
SQLite also accepts (text for UUID, JSON and arrays). On PostgreSQL they live in the app
database. With SQLite they get a file of their own beside it (``chat-history.db``): the
data layer writes from an async driver while the graph journals through the sync engine in
the same event loop, and two writers on one SQLite file would wait on each other's locks.

Elements and buttons are not stored (no blob storage is configured, and Chainlit keeps no
actions). Messages that show a draft or offer a review carry a marker in their metadata, so
reopening a thread can find them again and give them back their diagram, sources and buttons
from the graph state (see ``resume`` in ``chat.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from assistant.settings import Settings

if TYPE_CHECKING:  # chainlit is imported only once server.py has pointed it at this project
    from chainlit.types import ThreadDict

TABLES = [
    """CREATE TABLE IF NOT EXISTS users (
        "id" TEXT PRIMARY KEY, "identifier" TEXT NOT NULL UNIQUE, "metadata" TEXT NOT NULL,
        "createdAt" TEXT)""",
    """CREATE TABLE IF NOT EXISTS threads (
        "id" TEXT PRIMARY KEY, "createdAt" TEXT, "name" TEXT, "userId" TEXT,
        "userIdentifier" TEXT, "tags" TEXT, "metadata" TEXT,
        FOREIGN KEY ("userId") REFERENCES users("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS steps (
        "id" TEXT PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT NOT NULL,
        "threadId" TEXT NOT NULL, "parentId" TEXT, "streaming" BOOLEAN NOT NULL,
        "waitForAnswer" BOOLEAN, "isError" BOOLEAN, "metadata" TEXT, "tags" TEXT,
        "input" TEXT, "output" TEXT, "createdAt" TEXT, "command" TEXT, "start" TEXT,
        "end" TEXT, "generation" TEXT, "showInput" TEXT, "language" TEXT, "indent" INT,
        "defaultOpen" BOOLEAN, "autoCollapse" BOOLEAN, "modes" TEXT,
        FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS elements (
        "id" TEXT PRIMARY KEY, "threadId" TEXT, "type" TEXT, "url" TEXT, "chainlitKey" TEXT,
        "name" TEXT NOT NULL, "display" TEXT, "objectKey" TEXT, "size" TEXT, "page" INT,
        "language" TEXT, "forId" TEXT, "mime" TEXT, "props" TEXT,
        FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
    """CREATE TABLE IF NOT EXISTS feedbacks (
        "id" TEXT PRIMARY KEY, "forId" TEXT NOT NULL, "threadId" TEXT NOT NULL,
        "value" INT NOT NULL, "comment" TEXT,
        FOREIGN KEY ("threadId") REFERENCES threads("id") ON DELETE CASCADE)""",
]


def create_history_tables(engine: Engine) -> None:
    """Create Chainlit's history tables in the app database if they are missing."""
    with engine.begin() as conn:
        for statement in TABLES:
            conn.execute(text(statement))


def history_url(settings: Settings) -> str:
    """Return the (sync) URL of the history database."""
    if settings.database_url.startswith("sqlite"):
        return f"sqlite:///{settings.home / 'chat-history.db'}"
    return settings.database_url


def async_url(database_url: str) -> str:
    """Return the async driver URL for a database URL."""
    if database_url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + database_url.removeprefix("sqlite:///")
    return database_url  # postgresql+psycopg works with SQLAlchemy's async engine too


def prepare_history(settings: Settings) -> None:
    """Create the history tables where ``settings`` keep them."""
    url = history_url(settings)
    engine = create_engine(url)
    try:
        create_history_tables(engine)
    finally:
        engine.dispose()


def build_data_layer(settings: Settings) -> Any:
    """Return Chainlit's SQLAlchemy data layer over the history database."""
    from chainlit.data.sql_alchemy import SQLAlchemyDataLayer

    return SQLAlchemyDataLayer(conninfo=async_url(history_url(settings)))


def marker(shows: str, graph_thread: str, shown: BaseModel) -> dict[str, str]:
    """Return the metadata marking a message that shows ``shown`` of ``graph_thread``.

    ``shows`` names what the message is for ("draft", "review"); the key is a digest of the
    draft or review request itself, so a reopened thread only matches the one still pending.
    """
    key = hashlib.sha256(shown.model_dump_json().encode()).hexdigest()[:16]
    return {"shows": shows, "graph_thread": graph_thread, "key": key}


def find_marked(thread: ThreadDict, wanted: dict[str, str]) -> str | None:
    """Return the id of the thread's last stored message carrying ``wanted``, or None."""
    for step in reversed(thread["steps"]):
        metadata: Any = step.get("metadata") or {}
        if isinstance(metadata, str):  # stored as text; Chainlit hands it back unparsed
            metadata = json.loads(metadata)
        if all(metadata.get(k) == v for k, v in wanted.items()):
            return step["id"]
    return None


def add_to_thread(
    thread: ThreadDict, steps: Iterable[Any] = (), elements: Iterable[Any] = ()
) -> None:
    """Add messages and elements to a thread Chainlit is about to send to a reopened chat."""
    thread["steps"].extend(steps)
    thread["elements"] = [*(thread.get("elements") or []), *elements]
