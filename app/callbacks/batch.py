"""Applying deliveries in batches: one statement locks the tasks, applies first results, logs all.

A batch of one is the ordinary case; under load, the deliveries of concurrent callbacks
share one statement and one commit (see intake.py), and every caller is answered only
after that commit. The statement runs inside a session's transaction, or on one of the
intake's own asyncpg connections outside a transaction block; the text is the same.
"""

from dataclasses import dataclass, fields
from types import UnionType
from typing import Any, get_args

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


@dataclass(frozen=True, slots=True)
class Row:
    """One delivery ready for the statement. JSON values are already serialised text."""

    id: str
    source: str
    remote_addr: str | None
    method: str
    query: str
    headers: str
    body: bytes | None
    body_size: int
    task_id: str | None
    task_ref: str | None
    # The outcome when it is decided before the database is asked (unauthenticated,
    # invalid); None lets the statement decide it.
    decided_outcome: str | None
    detail: str | None
    status: str | None
    result: str | None
    output: str | None
    error: str | None
    trace_id: str | None
    replay_of: str | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    outcome: str
    task_ref: str | None
    detail: str | None


def _array_type(annotation: Any) -> str:
    """The PostgreSQL array type for a Row field: bytea[], int[] or text[]."""
    kinds = set(get_args(annotation)) if isinstance(annotation, UnionType) else {annotation}
    return "bytea[]" if bytes in kinds else "int[]" if int in kinds else "text[]"


_COLUMNS = [f.name for f in fields(Row)]
_ARRAYS = ", ".join(f"${n}::{_array_type(f.type)}" for n, f in enumerate(fields(Row), 1))

# Per task, the first delivery whose task_id fits is the candidate; the task rows are locked
# in id order, so concurrent batches queue behind each other instead of deadlocking. A later
# delivery for a finished task is `duplicate` (same body) or `late` (another body).
# Only Row's field names and types are formatted in; the values all go as parameters.
_APPLY_BATCH = f"""
WITH input AS (
    SELECT * FROM unnest({_ARRAYS}) WITH ORDINALITY AS i({", ".join(_COLUMNS)}, ord)
), locked AS (
    SELECT t.id, t.task_id, t.status, t.result FROM tasks AS t
    WHERE t.id IN (SELECT task_ref FROM input WHERE decided_outcome IS NULL)
    ORDER BY t.id
    FOR UPDATE
), candidate AS (
    SELECT DISTINCT ON (i.task_ref) i.* FROM input AS i JOIN locked AS l ON l.id = i.task_ref
    WHERE i.decided_outcome IS NULL
      AND l.status IN ('pending', 'submitted', 'expired')
      AND (l.task_id IS NULL OR l.task_id = i.task_id)
    ORDER BY i.task_ref, i.ord
), applied AS (
    UPDATE tasks AS t
    SET status = c.status, task_id = c.task_id, result = c.result::jsonb,
        output = c.output::jsonb, error = c.error::jsonb,
        trace_id = coalesce(c.trace_id, t.trace_id), finished_at = now(), updated_at = now()
    FROM candidate AS c
    WHERE t.id = c.task_ref
      AND NOT EXISTS (SELECT 1 FROM tasks AS o WHERE o.task_id = c.task_id AND o.id <> c.task_ref)
    RETURNING t.id, c.ord, c.task_id, c.result::jsonb AS result
)
INSERT INTO deliveries
    (id, source, remote_addr, method, query, headers, body, body_size, task_id, task_ref,
     outcome, detail, replay_of)
SELECT i.id, i.source, i.remote_addr, i.method, i.query, i.headers::jsonb, i.body, i.body_size,
    i.task_id,
    CASE WHEN i.decided_outcome IS NULL AND l.id IS NULL THEN NULL ELSE i.task_ref END,
    o.outcome,
    coalesce(i.detail, CASE WHEN o.outcome = 'unauthenticated'
        THEN 'the credential is for another task_id' END),
    i.replay_of
FROM input AS i
LEFT JOIN locked AS l ON l.id = i.task_ref AND i.decided_outcome IS NULL
LEFT JOIN applied AS a ON a.id = i.task_ref
CROSS JOIN LATERAL (SELECT CASE
    WHEN i.decided_outcome IS NOT NULL THEN i.decided_outcome
    WHEN l.id IS NULL THEN 'unmatched'
    WHEN a.ord = i.ord THEN 'applied'
    WHEN coalesce(a.task_id, l.task_id) IS DISTINCT FROM i.task_id THEN 'unauthenticated'
    WHEN coalesce(a.result, l.result) = i.result::jsonb THEN 'duplicate'
    ELSE 'late'
END AS outcome) AS o
RETURNING id, outcome, task_ref, detail
"""  # noqa: S608


async def apply_batch(
    conn: asyncpg.Connection | AsyncConnection | AsyncSession, rows: list[Row]
) -> dict[str, Applied]:
    """Run the statement for `rows`; outcomes by delivery id.

    On a raw asyncpg connection outside a transaction block it is one round trip, and
    PostgreSQL commits it before answering (with synchronous_commit on, durably). In a
    session or SQLAlchemy connection it joins their transaction: the caller commits.
    """
    arrays = [[getattr(row, column) for row in rows] for column in _COLUMNS]
    if isinstance(conn, asyncpg.Connection):
        records: Any = await conn.fetch(_APPLY_BATCH, *arrays)
    else:
        if isinstance(conn, AsyncSession):
            conn = await conn.connection()
        records = (await conn.exec_driver_sql(_APPLY_BATCH, tuple(arrays))).mappings()
    return {r["id"]: Applied(r["outcome"], r["task_ref"], r["detail"]) for r in records}
