"""Alembic's entry point: migrate the connection ``prepare_schema`` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import assistant.db.tables  # noqa: F401  (registers the tables)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through assistant.db.migrations.prepare_schema (flowdraft does it on start)"
    )
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
