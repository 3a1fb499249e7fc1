"""The archive_files table: one row per generated file of a succeeded task, and its copy.

Rows are not written by Python code: the `tasks_archive` trigger (migration 0007) inserts
them in the same transaction that moves a task to `succeeded`, whichever path finished it
(callback, replay, reconciliation, synchronous answer), so a file is never forgotten.
"""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.vocabulary import ArchiveStatus

FILE_STATUSES = tuple(ArchiveStatus)
# What each role is; the first of a task's roles in this order is "the audio" it serves.
ROLE_ORDER = ("audio", "sample", "cover")


class ArchiveFile(Base):
    __tablename__ = "archive_files"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in FILE_STATUSES)})", name="status"),
        # One copy per file of a task: the trigger's ON CONFLICT DO NOTHING relies on it.
        Index(None, "task_ref", "name", unique=True),
        # The worker's claim: due pending files, oldest first.
        Index("ix_archive_files_due", "next_attempt_at", postgresql_where="status = 'pending'"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    # Not a foreign key: a task deleted keeps its files unless FISHHOOK_ARCHIVE_DELETE_WITH_TASK.
    task_ref: Mapped[str] = mapped_column(Text)
    # "audio", "audio_2", "sample_1", "cover": unique within the task, part of the storage key.
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    # As AceData wrote it: absolute, or relative to FISHHOOK_ARCHIVE_MEDIA_BASE_URL.
    source_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set while a copy is in flight, so no other process claims the file; a process that
    # dies mid-copy leaves it due again once this passes.
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    storage_key: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    stored_at: Mapped[datetime | None]
