"""Tickets remember the caller's id, the customer's name, channel and source; tokens their owner.

Revision ID: 0002
Revises: 0001

Databases that ran a release which added these columns on start already have some of them,
so each column and index is added only when missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ADDED = {
    "helpdeskticket": [
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("customer_name", sa.String(), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=True),
    ],
    "apitoken": [sa.Column("owner", sa.String(), nullable=True)],
}


def upgrade() -> None:
    """Add the columns a database lacks, and the unique index on the caller's ticket id."""
    inspector = sa.inspect(op.get_bind())
    for table, columns in ADDED.items():
        present = {column["name"] for column in inspector.get_columns(table)}
        for column in columns:
            if column.name not in present:
                op.add_column(table, column)
    indexes = {index["name"] for index in inspector.get_indexes("helpdeskticket")}
    if "ix_helpdeskticket_external_id" not in indexes:
        op.create_index(
            "ix_helpdeskticket_external_id", "helpdeskticket", ["external_id"], unique=True
        )


def downgrade() -> None:
    """Drop the added columns again."""
    op.drop_index("ix_helpdeskticket_external_id", table_name="helpdeskticket")
    for table, columns in ADDED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column.name)
