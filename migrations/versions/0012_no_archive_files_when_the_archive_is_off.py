"""no archive files when the archive is off (FISHHOOK_ARCHIVE_URL=none)

The trigger of migration 0007 noted a succeeded task's files for the archive worker in the
transaction that stored the callback, whether or not any process keeps files: with the
archive off they stayed `pending` for ever, and the Task JSON said so. Connections of a
process whose archive is off now say `fishhook.archive = off` (Settings.connection_settings),
and the trigger does not fire for them.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGER = """
CREATE TRIGGER tasks_archive AFTER UPDATE OF status ON tasks FOR EACH ROW
WHEN (NEW.status = 'succeeded' AND NEW.status IS DISTINCT FROM OLD.status{also})
EXECUTE FUNCTION tasks_archive()
"""
_ARCHIVE_ON = " AND current_setting('fishhook.archive', true) IS DISTINCT FROM 'off'"


def upgrade() -> None:
    op.execute("DROP TRIGGER tasks_archive ON tasks")
    op.execute(_TRIGGER.format(also=_ARCHIVE_ON))


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_archive ON tasks")
    op.execute(_TRIGGER.format(also=""))
