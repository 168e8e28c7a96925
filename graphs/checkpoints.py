"""Durable graph checkpoints: SQLite in ``FLOWDRAFT_HOME`` by default, PostgreSQL to scale out.

The checkpointer follows ``FLOWDRAFT_DATABASE_URL``: with a PostgreSQL URL, threads live in
the same database as everything else, so any replica can resume any thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from assistant.settings import Settings

BUSY_TIMEOUT_MS = 30_000


@asynccontextmanager
async def sqlite_checkpointer(path: Path) -> AsyncIterator[AsyncSqliteSaver]:
    """Open the checkpoint database at ``path``; many processes may share it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous=NORMAL")
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        yield saver
    finally:
        await conn.close()


@asynccontextmanager
async def postgres_checkpointer(url: str) -> AsyncIterator[Any]:
    """Open LangGraph's PostgreSQL checkpointer on ``url`` (a SQLAlchemy or libpq URL)."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with AsyncPostgresSaver.from_conn_string(conninfo) as saver:
        await saver.setup()
        yield saver


@asynccontextmanager
async def open_checkpointer(settings: Settings) -> AsyncIterator[Any]:
    """Open the checkpointer ``settings`` call for."""
    if settings.database_url.startswith("postgresql"):
        async with postgres_checkpointer(settings.database_url) as saver:
            yield saver
    else:
        async with sqlite_checkpointer(settings.checkpoint_path) as saver:
            yield saver
