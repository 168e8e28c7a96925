"""Create the app database engine: SQLite (WAL, busy timeout) by default, PostgreSQL to scale."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from assistant.db.migrations import prepare_schema

BUSY_TIMEOUT_MS = 30_000
SETUP_LOCK = 0x466C6F7764726166
"""PostgreSQL advisory lock held while LangGraph's checkpoint tables are set up: replicas
starting at the same moment would otherwise race in ``CREATE TABLE IF NOT EXISTS`` and all
but one fail (the app's own tables have their migration lock)."""


def make_engine(url: str) -> Engine:
    """Return an engine for ``url`` with its schema created or migrated to the latest.

    SQLite connections use WAL and a busy timeout, and every transaction starts with
    ``BEGIN IMMEDIATE`` so that read-then-write sequences (claims, the audit chain) are
    serialised across processes instead of failing on upgrade.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn: Any, _record: Any) -> None:
            conn.isolation_level = None  # we issue BEGIN ourselves
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    else:
        engine = create_engine(url, pool_pre_ping=True)
    prepare_schema(engine)  # on PostgreSQL, under an advisory lock: one replica at a time
    return engine


@asynccontextmanager
async def setup_lock(url: str) -> AsyncIterator[None]:
    """Hold the database's setup lock for the block (on PostgreSQL; SQLite needs none).

    For setup done on connections of its own (LangGraph's checkpointer tables), so that
    replicas starting together set the tables up one at a time.
    """
    if not url.startswith("postgresql"):
        yield
        return
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        # Tried, never waited on: a session waiting for a lock holds a snapshot, which the
        # holder's CREATE INDEX CONCURRENTLY would wait for in turn, and neither would move.
        while True:
            tried = await connection.execute("SELECT pg_try_advisory_lock(%s)", (SETUP_LOCK,))
            row = await tried.fetchone()
            if row is not None and row[0]:
                break
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            await connection.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
