"""intake's notifications folded, sent after its commit

Every intake commit sent three notifications from these triggers (the task finished, tasks
changed, deliveries changed), and each woke every listening backend and every worker. Connections
that say `fishhook.notify = deferred` (the intake's own) now send none from here; intake sends
them itself, what a worker commits within 20 ms in one statement (app/callbacks/announce.py).
Every other writer's transactions notify as before.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_DEFERRED = "current_setting('fishhook.notify', true) IS DISTINCT FROM 'deferred'"

_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION fishhook_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {when} THEN
        PERFORM pg_notify('fishhook_events', TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION fishhook_notify_tasks_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {when} AND EXISTS (SELECT 1 FROM changed) THEN
        PERFORM pg_notify('fishhook_events', 'tasks');
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION tasks_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.webhook_url IS NOT NULL THEN
        INSERT INTO relay_messages (id, task_ref, url, event, task)
        VALUES ('msg_' || replace(gen_random_uuid()::text, '-', ''), NEW.id, NEW.webhook_url,
                NEW.status, to_jsonb(NEW) - 'webhook_url');
        PERFORM pg_notify('fishhook_relay', '');
    END IF;
    IF {when} THEN
        PERFORM pg_notify('fishhook_tasks', NEW.id || ' ' || coalesce(NEW.task_id, ''));
    END IF;
    RETURN NULL;
END
$$
""",
]


def upgrade() -> None:
    for function in _FUNCTIONS:
        op.execute(function.format(when=_NOT_DEFERRED))


def downgrade() -> None:
    for function in _FUNCTIONS:
        op.execute(function.format(when="true"))
