"""Chat history for the browser: Chainlit's SQLAlchemy data layer on the app database.

Chainlit documents its schema for PostgreSQL; the same tables are created here with types
SQLite also accepts (text for UUID, JSON and arrays). On PostgreSQL they live in the app
database. With SQLite they get a file of their own beside it (``chat-history.db``): the
data layer writes from an async driver while the graph journals through the sync engine in
the same event loop, and two writers on one SQLite file would wait on each other's locks. Images are not stored (no blob storage is
configured): reopening a thread redraws its current draft from the graph state instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from assistant.settings import Settings

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
