"""archive_files, filled by a trigger in the transaction that makes a task succeed

Every generated file a succeeded task names (speech: output.audio_url, or each of
output.audio_urls; voice: each result.data.samples[].audio and output.cover_image) gets a
pending row that the archive worker copies. Like the relay outbox (0004), the trigger
covers every path that finishes a task without a round trip on the callback path.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Bodies vary (AceData's are parsed leniently): every jsonb access is guarded by its type,
# because an error here would fail the transaction that stores the callback.
ARCHIVE_FUNCTION = """
CREATE FUNCTION tasks_archive() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    audios jsonb := CASE
        WHEN jsonb_typeof(NEW.output -> 'audio_urls') = 'array' THEN NEW.output -> 'audio_urls'
        ELSE jsonb_build_array(NEW.output -> 'audio_url') END;
    samples jsonb := CASE
        WHEN jsonb_typeof(NEW.result -> 'data' -> 'samples') = 'array'
        THEN NEW.result -> 'data' -> 'samples' ELSE '[]'::jsonb END;
BEGIN
    INSERT INTO archive_files (id, task_ref, name, role, source_url)
    SELECT 'arc_' || replace(gen_random_uuid()::text, '-', ''), NEW.id, f.name, f.role, f.url
    FROM (
        SELECT CASE WHEN n = 1 THEN 'audio' ELSE 'audio_' || n END AS name, 'audio' AS role,
               a #>> '{}' AS url
        FROM jsonb_array_elements(audios) WITH ORDINALITY AS x(a, n)
        WHERE jsonb_typeof(a) = 'string'
        UNION ALL
        SELECT 'sample_' || n, 'sample', s ->> 'audio'
        FROM jsonb_array_elements(samples) WITH ORDINALITY AS y(s, n)
        WHERE jsonb_typeof(s) = 'object' AND jsonb_typeof(s -> 'audio') = 'string'
        UNION ALL
        SELECT 'cover', 'cover', NEW.output ->> 'cover_image'
        WHERE jsonb_typeof(NEW.output -> 'cover_image') = 'string'
    ) AS f
    WHERE f.url <> ''
    ON CONFLICT (task_ref, name) DO NOTHING;
    RETURN NULL;
END
$$
"""

ARCHIVE_TRIGGER = """
CREATE TRIGGER tasks_archive AFTER UPDATE OF status ON tasks FOR EACH ROW
WHEN (NEW.status = 'succeeded' AND NEW.status IS DISTINCT FROM OLD.status)
EXECUTE FUNCTION tasks_archive()
"""


def upgrade() -> None:
    op.create_table(
        "archive_files",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("task_ref", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
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
        sa.Column("storage_key", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'stored', 'failed')", name=op.f("ck_archive_files_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_files")),
    )
    op.create_index(
        "ix_archive_files_due",
        "archive_files",
        ["next_attempt_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_index(
        op.f("ix_archive_files_task_ref_name"),
        "archive_files",
        ["task_ref", "name"],
        unique=True,
    )
    op.execute(ARCHIVE_FUNCTION)
    op.execute(ARCHIVE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_archive ON tasks")
    op.execute("DROP FUNCTION tasks_archive()")
    op.drop_index(op.f("ix_archive_files_task_ref_name"), table_name="archive_files")
    op.drop_index(
        "ix_archive_files_due", table_name="archive_files", postgresql_where="status = 'pending'"
    )
    op.drop_table("archive_files")
