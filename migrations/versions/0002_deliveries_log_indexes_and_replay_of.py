"""deliveries log: indexes for its filters and pruning, and replay_of for replays

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 15:49:12.831422
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("replay_of", sa.Text(), nullable=True))
    op.create_index(op.f("ix_deliveries_received_at"), "deliveries", ["received_at"], unique=False)
    op.create_index(op.f("ix_deliveries_task_id"), "deliveries", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_deliveries_task_id"), table_name="deliveries")
    op.drop_index(op.f("ix_deliveries_received_at"), table_name="deliveries")
    op.drop_column("deliveries", "replay_of")
