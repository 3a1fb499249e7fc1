"""reconciliation schedule on tasks, and idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 15:52:37
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("task_ref", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False
    )
    op.add_column("tasks", sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "tasks", sa.Column("checks", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.create_index(
        op.f("ix_tasks_next_check_at"),
        "tasks",
        ["next_check_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'submitted')"),
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_tasks_next_check_at"),
        table_name="tasks",
        postgresql_where=sa.text("status IN ('pending', 'submitted')"),
    )
    op.drop_column("tasks", "checks")
    op.drop_column("tasks", "next_check_at")
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
