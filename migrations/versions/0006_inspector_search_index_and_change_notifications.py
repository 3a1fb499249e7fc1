"""the inspector: body search index, trace_id index, and change notifications for live pages

Deliveries are searched by any word of their body: a trigram GIN index over the body as
text. The body is bytea and may be invalid UTF-8, so the indexed text is
`encode(body, 'escape')` (immutable, never fails: ASCII as is, other bytes as \\ooo);
the search escapes its term the same way. Tasks are found by trace_id through a plain index.

Live pages learn of changes from NOTIFY on `fishhook_events` (payload: what changed),
sent once per statement, so a batch of 200 callbacks is one notification, not 200.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOTIFY_FUNCTION = """
CREATE FUNCTION fishhook_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fishhook_events', TG_ARGV[0]);
    RETURN NULL;
END
$$
"""

# An UPDATE that matched no row (the reconciliation sweep, most of the time) says nothing.
_TASKS_UPDATED_FUNCTION = """
CREATE FUNCTION fishhook_notify_tasks_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        PERFORM pg_notify('fishhook_events', 'tasks');
    END IF;
    RETURN NULL;
END
$$
"""

_TRIGGERS = {
    "deliveries_inserted": "AFTER INSERT ON deliveries FOR EACH STATEMENT "
    "EXECUTE FUNCTION fishhook_notify_change('deliveries')",
    "tasks_inserted": "AFTER INSERT ON tasks FOR EACH STATEMENT "
    "EXECUTE FUNCTION fishhook_notify_change('tasks')",
    "tasks_updated": "AFTER UPDATE ON tasks REFERENCING NEW TABLE AS changed "
    "FOR EACH STATEMENT EXECUTE FUNCTION fishhook_notify_tasks_updated()",
    "relay_attempts_inserted": "AFTER INSERT ON relay_attempts FOR EACH STATEMENT "
    "EXECUTE FUNCTION fishhook_notify_change('relay')",
}
_TABLES = {
    "deliveries_inserted": "deliveries",
    "tasks_inserted": "tasks",
    "tasks_updated": "tasks",
    "relay_attempts_inserted": "relay_attempts",
}


# Only where pg_trgm can be had (PostgreSQL's contrib, and the right to create it; the
# embedded server for laptops has none): elsewhere the search still works, reading the table.
_SEARCH_INDEX = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'no privilege to create pg_trgm: body search reads the table';
            RETURN;
        END;
        CREATE INDEX ix_deliveries_body_trgm ON deliveries
            USING gin ((encode(body, 'escape')) gin_trgm_ops);
    ELSE
        RAISE WARNING 'pg_trgm is not available: searching delivery bodies reads the table';
    END IF;
END
$$
"""


def upgrade() -> None:
    op.execute(_SEARCH_INDEX)
    op.create_index("ix_tasks_trace_id", "tasks", ["trace_id"], unique=False)
    op.execute(_NOTIFY_FUNCTION)
    op.execute(_TASKS_UPDATED_FUNCTION)
    for name, definition in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")


def downgrade() -> None:
    for name, table in _TABLES.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION fishhook_notify_tasks_updated()")
    op.execute("DROP FUNCTION fishhook_notify_change()")
    op.drop_index("ix_tasks_trace_id", table_name="tasks")
    op.execute("DROP INDEX IF EXISTS ix_deliveries_body_trgm")
