"""The schema as it shipped before migrations: tables made by the models' ``create_all``.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to do: a database at the baseline already has these tables."""


def downgrade() -> None:
    """Nothing to undo."""
