"""relay wake-ups only for tasks that have something to relay

Every finished task used to wake every process's relay loop (one NOTIFY channel for
long-polls and relays alike), so a burst of callbacks without webhooks made each worker
sweep the outbox for nothing. Relay wake-ups now go to their own channel, and only when
the trigger wrote an outbox row; identical notifications in one transaction fold into one.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION tasks_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.webhook_url IS NOT NULL THEN
        INSERT INTO relay_messages (id, task_ref, url, event, task)
        VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), NEW.id, NEW.webhook_url,
                NEW.status, to_jsonb(NEW) - 'webhook_url');
        {relay_notify}
    END IF;
    PERFORM pg_notify('fishhook_tasks', NEW.id || ' ' || coalesce(NEW.task_id, ''));
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(_FUNCTION.format(relay_notify="PERFORM pg_notify('fishhook_relay', '');"))


def downgrade() -> None:
    op.execute(_FUNCTION.format(relay_notify=""))
