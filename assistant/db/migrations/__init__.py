"""Bring an app database's schema up to date with Alembic migrations (in ``versions/``).

A new database gets every table from the models and is stamped at the latest revision. A
database from before migrations existed (tables, no ``alembic_version``) is stamped at the
baseline and upgraded. A database already at the latest revision costs one query, so a
command-line call does not re-check the schema.

Changing a model means writing a migration: ``alembic -c assistant/db/migrations/alembic.ini
revision -m "what changed"`` (or by hand, as the ones here), setting ``HEAD`` to its revision
and ``MODELS_DIGEST`` to ``models_digest()`` — a test fails until both are done.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
"""The schema as it shipped before migrations: what ``create_all`` made then."""
HEAD = "0002"
MODELS_DIGEST = "8834657c"
"""``models_digest()`` of the models ``HEAD`` describes."""
LOCK_KEY = 0x666C6F77  # "flow": PostgreSQL advisory lock serialising schema changes


def models_digest() -> str:
    """Return a short fingerprint of every table and column the models declare."""
    import assistant.db.tables  # noqa: F401  (registers the tables)

    shape = sorted(
        f"{table.name}.{column.name}:{column.type}:{column.nullable}"
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
    )
    return hashlib.sha256("\n".join(shape).encode()).hexdigest()[:8]


def current_revision(connection: Connection) -> str | None:
    """Return the database's migration revision, or None when it has never been migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def prepare_schema(engine: Engine) -> None:
    """Create the tables of a new database, or migrate an older one to ``HEAD``."""
    import assistant.db.tables  # noqa: F401  (registers the tables)

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
        revision = current_revision(connection)
        if revision == HEAD:
            return
        existing = set(inspect(connection).get_table_names())
        SQLModel.metadata.create_all(connection)
        if revision is None and not existing & set(SQLModel.metadata.tables):
            run_alembic(connection, "stamp", HEAD)
            return
        if revision is None:
            run_alembic(connection, "stamp", BASELINE)
        run_alembic(connection, "upgrade", HEAD)


def run_alembic(connection: Connection, command_name: str, revision: str) -> None:
    """Run an Alembic command (``stamp`` or ``upgrade``) on ``connection``, in its transaction."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    getattr(command, command_name)(config, revision)
