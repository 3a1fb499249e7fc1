"""Archive files in the database: claiming due copies, recording their outcome, reading them."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app import claims
from app.archive.models import ROLE_ORDER, ArchiveFile
from app.log import get_logger
from app.vocabulary import ArchiveStatus

log = get_logger("fishhook.archive")

# Every file is downloaded once however many processes run (app/claims.py).
_CLAIM_DUE = text(
    claims.due_sql("archive_files", "f", "f.id, f.task_ref, f.name, f.source_url, f.attempts")
)

# Files whose task is gone (FISHHOOK_ARCHIVE_DELETE_WITH_TASK), claimed like copies.
_CLAIM_ORPHANS = text(
    """
UPDATE archive_files AS f
SET locked_until = now() + make_interval(secs => :lease)
FROM (
    SELECT a.id FROM archive_files AS a
    WHERE NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.id = a.task_ref)
      AND (a.locked_until IS NULL OR a.locked_until <= now())
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
) AS gone
WHERE f.id = gone.id
RETURNING f.id, f.storage_key
"""
)


_FIELDS = (
    ArchiveFile.name,
    ArchiveFile.status,
    ArchiveFile.size,
    ArchiveFile.sha256,
    ArchiveFile.content_type,
    ArchiveFile.last_error,
)


def files_sql(task_ref: str) -> str:
    """A scalar subquery: the files of the task whose id is the SQL expression `task_ref`,
    as a JSON array of the fields the Task JSON shows (for statements written as text)."""
    fields = ", ".join(f"'{c.key}', a.{c.key}" for c in _FIELDS)
    return (
        f"(SELECT coalesce(jsonb_agg(jsonb_build_object({fields})), '[]'::jsonb)"  # noqa: S608
        f" FROM archive_files AS a WHERE a.task_ref = {task_ref})"
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    task_ref: str
    name: str
    source_url: str
    number: int  # this attempt's number, 1 for the first


@dataclass(frozen=True, slots=True)
class Copied:
    storage_key: str
    size: int
    sha256: str
    content_type: str


async def claim_due(session: AsyncSession, *, limit: int, lease: float) -> list[Claimed]:
    rows = (await session.execute(_CLAIM_DUE, {"limit": limit, "lease": lease})).all()
    await session.commit()
    return [Claimed(r.id, r.task_ref, r.name, r.source_url, r.attempts) for r in rows]


async def record_stored(session: AsyncSession, claimed: Claimed, copied: Copied) -> bool:
    return await _record(
        session,
        claimed,
        status=ArchiveStatus.STORED,
        storage_key=copied.storage_key,
        size=copied.size,
        sha256=copied.sha256,
        content_type=copied.content_type,
        stored_at=datetime.now(UTC),
        last_error=None,
    )


async def record_failure(
    session: AsyncSession, claimed: Claimed, reason: str, *, retry_in: float | None
) -> bool:
    """`retry_in`: seconds before the next attempt, or None to give up (status failed)."""
    if retry_in is None:
        return await _record(session, claimed, status=ArchiveStatus.FAILED, last_error=reason)
    next_at = datetime.now(UTC) + timedelta(seconds=retry_in)
    return await _record(
        session, claimed, status=ArchiveStatus.PENDING, next_attempt_at=next_at, last_error=reason
    )


# A record lost with a database crash only means the file is copied again (to the same key,
# atomically): no need to wait for the WAL flush, the slowest part of a copy of a small file.
_NO_FLUSH_WAIT = text("SET LOCAL synchronous_commit TO off")


async def _record(session: AsyncSession, claimed: Claimed, **values: Any) -> bool:
    await session.execute(_NO_FLUSH_WAIT)
    # Only while this claim is the latest: a copy whose lease ran out and was taken over
    # does not overwrite what the newer attempt records.
    result = await session.execute(
        update(ArchiveFile)
        .where(ArchiveFile.id == claimed.id, ArchiveFile.attempts == claimed.number)
        .values(locked_until=None, **values)
    )
    await session.commit()
    owned = bool(getattr(result, "rowcount", 1))
    if not owned:
        log.warning("archive_attempt_superseded", file=claimed.id, number=claimed.number)
    return owned


async def claim_orphans(
    session: AsyncSession, *, limit: int, lease: float
) -> list[tuple[str, str | None]]:
    rows = (await session.execute(_CLAIM_ORPHANS, {"limit": limit, "lease": lease})).all()
    await session.commit()
    return [(r.id, r.storage_key) for r in rows]


async def forget(session: AsyncSession, file_id: str) -> None:
    await session.execute(delete(ArchiveFile).where(ArchiveFile.id == file_id))
    await session.commit()


async def backlog(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(ArchiveFile)
        .where(ArchiveFile.status == ArchiveStatus.PENDING)
    )
    await session.rollback()
    return int(count or 0)


async def file_of(session: AsyncSession, task_ref: str, name: str | None) -> ArchiveFile | None:
    """The named file of a task, or its first (the audio) when `name` is None."""
    query = select(ArchiveFile).where(ArchiveFile.task_ref == task_ref)
    if name is not None:
        query = query.where(ArchiveFile.name == name)
    files = list(await session.scalars(query))
    files.sort(key=lambda f: sort_key(f.name))
    return files[0] if files else None


def files_of_task(task_ref: ColumnElement[str] | InstrumentedAttribute[str]) -> ScalarSelect[Any]:
    """files_sql as an expression: a correlated subquery over ix_archive_files_task_ref_name,
    for a statement that reads tasks (see tasks.service)."""
    return (
        select(
            func.jsonb_agg(
                func.jsonb_build_object(
                    *(part for column in _FIELDS for part in (column.key, column))
                )
            )
        )
        .where(ArchiveFile.task_ref == task_ref)
        .scalar_subquery()
    )


def sort_key(name: str) -> tuple[int, int, str]:
    """audio, audio_2, ..., sample_1, ..., cover: the first is the file a task's URL serves."""
    role, _, number = name.partition("_")
    rank = ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)
    return rank, int(number) if number.isdigit() else 0, name
