"""Applying deliveries in batches: one statement locks the tasks, applies first results, logs all.

A batch of one is the ordinary case; under load, the deliveries of concurrent callbacks
share one statement and one commit (see intake.py), and every caller is answered only
after that commit. Sessions run the statement inside their own transaction (`apply_batch`);
the intake runs the same statement on its own asyncpg connections (`apply_batch_raw`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Integer, LargeBinary, Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Per task, the first delivery whose task_id fits is the candidate; the task rows are locked
# in id order, so concurrent batches queue behind each other instead of deadlocking. A later
# delivery for a finished task is `duplicate` (same body) or `late` (another body).
_APPLY_BATCH = text(
    """
WITH input AS (
    SELECT * FROM unnest(
        :ids, :sources, :remote_addrs, :methods, :queries, :headers, :bodies, :sizes,
        :task_ids, :task_refs, :fixed, :details, :statuses, :results, :outputs, :errors, :traces,
        :replays
    ) WITH ORDINALITY AS i(id, source, remote_addr, method, query, headers, body, body_size,
                            task_id, task_ref, fixed, detail, status, result, output, error,
                            trace_id, replay_of, ord)
), locked AS (
    SELECT t.id, t.task_id, t.status, t.result FROM tasks AS t
    WHERE t.id IN (SELECT task_ref FROM input WHERE fixed IS NULL)
    ORDER BY t.id
    FOR UPDATE
), candidate AS (
    SELECT DISTINCT ON (i.task_ref) i.* FROM input AS i JOIN locked AS l ON l.id = i.task_ref
    WHERE i.fixed IS NULL
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
    CASE WHEN i.fixed IS NULL AND l.id IS NULL THEN NULL ELSE i.task_ref END,
    o.outcome,
    coalesce(i.detail, CASE WHEN o.outcome = 'unauthenticated'
        THEN 'the credential is for another task_id' END),
    i.replay_of
FROM input AS i
LEFT JOIN locked AS l ON l.id = i.task_ref AND i.fixed IS NULL
LEFT JOIN applied AS a ON a.id = i.task_ref
CROSS JOIN LATERAL (SELECT CASE
    WHEN i.fixed IS NOT NULL THEN i.fixed
    WHEN l.id IS NULL THEN 'unmatched'
    WHEN a.ord = i.ord THEN 'applied'
    WHEN coalesce(a.task_id, l.task_id) IS DISTINCT FROM i.task_id THEN 'unauthenticated'
    WHEN coalesce(a.result, l.result) = i.result::jsonb THEN 'duplicate'
    ELSE 'late'
END AS outcome) AS o
RETURNING id, outcome, task_ref, detail
"""
).bindparams(
    bindparam("ids", type_=ARRAY(Text)),
    bindparam("sources", type_=ARRAY(Text)),
    bindparam("remote_addrs", type_=ARRAY(Text)),
    bindparam("methods", type_=ARRAY(Text)),
    bindparam("queries", type_=ARRAY(Text)),
    bindparam("headers", type_=ARRAY(Text)),
    bindparam("bodies", type_=ARRAY(LargeBinary)),
    bindparam("sizes", type_=ARRAY(Integer)),
    bindparam("task_ids", type_=ARRAY(Text)),
    bindparam("task_refs", type_=ARRAY(Text)),
    bindparam("fixed", type_=ARRAY(Text)),
    bindparam("details", type_=ARRAY(Text)),
    bindparam("statuses", type_=ARRAY(Text)),
    bindparam("results", type_=ARRAY(Text)),
    bindparam("outputs", type_=ARRAY(Text)),
    bindparam("errors", type_=ARRAY(Text)),
    bindparam("traces", type_=ARRAY(Text)),
    bindparam("replays", type_=ARRAY(Text)),
)

_COLUMNS = {
    "ids": "id",
    "sources": "source",
    "remote_addrs": "remote_addr",
    "methods": "method",
    "queries": "query",
    "headers": "headers",
    "bodies": "body",
    "sizes": "body_size",
    "task_ids": "task_id",
    "task_refs": "task_ref",
    "fixed": "fixed",
    "details": "detail",
    "statuses": "status",
    "results": "result",
    "outputs": "output",
    "errors": "error",
    "traces": "trace_id",
    "replays": "replay_of",
}


@dataclass(frozen=True, slots=True)
class Row:
    """One delivery ready for the statement. JSON values are already serialised text.

    `fixed` is the outcome when it is decided before the database is asked
    (unauthenticated, invalid); otherwise the statement decides it.
    """

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
    fixed: str | None
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


# The same statement with asyncpg's $n placeholders, and the order its arrays go in.
_COMPILED = _APPLY_BATCH.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
_RAW_SQL = str(_COMPILED)
_RAW_ORDER = [_COLUMNS[name] for name in _COMPILED.positiontup or ()]


async def apply_batch(conn: AsyncConnection | AsyncSession, rows: list[Row]) -> dict[str, Applied]:
    """Run the statement for `rows`; outcomes by delivery id. The caller commits."""
    params: dict[str, Any] = {
        name: [getattr(row, column) for row in rows] for name, column in _COLUMNS.items()
    }
    return _outcomes((await conn.execute(_APPLY_BATCH, params)).mappings())


async def apply_batch_raw(conn: asyncpg.Connection, rows: list[Row]) -> dict[str, Applied]:
    """The statement on a raw asyncpg connection outside a transaction block: one round trip,
    and PostgreSQL commits it before answering (with synchronous_commit on, durably)."""
    arrays = [[getattr(row, column) for row in rows] for column in _RAW_ORDER]
    return _outcomes(await conn.fetch(_RAW_SQL, *arrays))


def _outcomes(records: Iterable[Any]) -> dict[str, Applied]:
    return {r["id"]: Applied(r["outcome"], r["task_ref"], r["detail"]) for r in records}
