"""relay outbox and the trigger that fills it (and NOTIFYs long-pollers) when a task finishes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 15:49:00.732653
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# One trigger covers every path that finishes a task (callbacks, replays, reconciliation,
# expiry, refused submits) without adding a round trip to the callback hot path: the outbox
# row is written, and the NOTIFY sent, by the very transaction that finishes the task.
# The payload is "<id> <task_id>" so a long-poller may wait on either id.
# `to_jsonb(NEW) - 'webhook_url'` snapshots the task, so every attempt sends the same body.
FINISHED_FUNCTION = """
CREATE FUNCTION tasks_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.webhook_url IS NOT NULL THEN
        INSERT INTO relay_messages (id, task_ref, url, event, task)
        VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), NEW.id, NEW.webhook_url,
                NEW.status, to_jsonb(NEW) - 'webhook_url');
    END IF;
    PERFORM pg_notify('fishhook_tasks', NEW.id || ' ' || coalesce(NEW.task_id, ''));
    RETURN NULL;
END
$$
"""

FINISHED_TRIGGER = """
CREATE TRIGGER tasks_finished AFTER UPDATE OF status ON tasks FOR EACH ROW
WHEN (NEW.status IN ('succeeded', 'failed', 'expired') AND NEW.status IS DISTINCT FROM OLD.status)
EXECUTE FUNCTION tasks_finished()
"""


def upgrade() -> None:
    op.create_table(
        "relay_messages",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("task_ref", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("task", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')", name=op.f("ck_relay_messages_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_messages")),
    )
    op.create_index(
        "ix_relay_messages_due",
        "relay_messages",
        ["next_attempt_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_index(
        op.f("ix_relay_messages_task_ref"), "relay_messages", ["task_ref"], unique=False
    )
    op.create_table(
        "relay_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["relay_messages.id"],
            name=op.f("fk_relay_attempts_message_id_relay_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_attempts")),
    )
    op.create_index(
        op.f("ix_relay_attempts_message_id_number"),
        "relay_attempts",
        ["message_id", "number"],
        unique=True,
    )
    op.execute(FINISHED_FUNCTION)
    op.execute(FINISHED_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_finished ON tasks")
    op.execute("DROP FUNCTION tasks_finished()")
    op.drop_index(op.f("ix_relay_attempts_message_id_number"), table_name="relay_attempts")
    op.drop_table("relay_attempts")
    op.drop_index(op.f("ix_relay_messages_task_ref"), table_name="relay_messages")
    op.drop_index(
        "ix_relay_messages_due", table_name="relay_messages", postgresql_where="status = 'pending'"
    )
    op.drop_table("relay_messages")
