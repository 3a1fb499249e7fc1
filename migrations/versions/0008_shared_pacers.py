"""shared pacers for /fish/tasks, and an index for pruning finished relay messages

Reconciliation paced /fish/tasks per worker, so N workers in M processes asked AceData N x M
times as often as it allows (about 1 request/s). Each call now claims its slot in the
`pacers` table (app/reconcile/pacer.py). Delivered and dead relay messages are now pruned
after FISHHOOK_RELAY_RETENTION_DAYS (app/retention.py), found through a partial index.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pacers",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "next_allowed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pacers")),
    )
    op.create_index(
        "ix_relay_messages_finished",
        "relay_messages",
        ["created_at"],
        postgresql_where=sa.text("status IN ('delivered', 'dead')"),
    )


def downgrade() -> None:
    op.drop_index("ix_relay_messages_finished", table_name="relay_messages")
    op.drop_table("pacers")
