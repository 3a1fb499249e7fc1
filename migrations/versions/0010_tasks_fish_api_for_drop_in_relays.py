"""tasks.fish_api: the /fish endpoint a drop-in client called

Tasks submitted through the AceData-compatible API (/fish/tts, /fish/voices, /fish/audios,
/fish/model) remember which endpoint they came from: their /fish/tasks record names its
type, and their webhook gets AceData's own callback body instead of the Task JSON.

Revision ID: 0010
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("fish_api", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("tasks", "fish_api")
