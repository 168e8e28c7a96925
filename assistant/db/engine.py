"""Create the app database engine: SQLite (WAL, busy timeout) by default, PostgreSQL to scale."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import Connection, MetaData, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex
from sqlmodel import Session, SQLModel, create_engine

BUSY_TIMEOUT_MS = 30_000
SETUP_LOCK = 0x466C6F7764726166
"""PostgreSQL advisory lock held while tables are created: replicas starting at the same
moment would otherwise race in ``CREATE TABLE IF NOT EXISTS`` and all but one fail."""


def make_engine(url: str) -> Engine:
    """Return an engine for ``url`` with every table created.

    SQLite connections use WAL and a busy timeout, and every transaction starts with
    ``BEGIN IMMEDIATE`` so that read-then-write sequences (claims, the audit chain) are
    serialised across processes instead of failing on upgrade.
    """
    import assistant.db.tables  # noqa: F401  (registers the tables)

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

        SQLModel.metadata.create_all(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True)
    with engine.begin() as connection:  # PostgreSQL's DDL is transactional: one at a time
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETUP_LOCK})
        SQLModel.metadata.create_all(connection)
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


ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "helpdeskticket": ("external_id", "customer_name", "channel", "source"),
    "apitoken": ("owner",),
}
"""Nullable columns added to a table after it first shipped, by table name."""


@event.listens_for(SQLModel.metadata, "after_create")
def add_missing_columns(metadata: MetaData, connection: Connection, **_: Any) -> None:
    """Add ``ADDED_COLUMNS`` (and their indexes) to databases created before they existed.

    ``create_all`` creates missing tables but never alters existing ones, so without this an
    older database would fail every query on the table with "no such column".
    """
    inspector = inspect(connection)
    for table_name, names in ADDED_COLUMNS.items():
        if not inspector.has_table(table_name):
            continue  # create_all was asked for other tables only
        present = {column["name"] for column in inspector.get_columns(table_name)}
        missing = [name for name in names if name not in present]
        if not missing:
            continue
        table = metadata.tables[table_name]
        guard = "IF NOT EXISTS " if connection.dialect.name == "postgresql" else ""
        for name in missing:
            column_type = table.c[name].type.compile(dialect=connection.dialect)
            connection.exec_driver_sql(
                f"ALTER TABLE {table_name} ADD COLUMN {guard}{name} {column_type}"
            )
        for index in table.indexes:
            if any(column.name in missing for column in index.columns):
                connection.execute(CreateIndex(index, if_not_exists=True))
