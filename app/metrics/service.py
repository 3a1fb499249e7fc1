"""The figures /metrics and the dashboard read from the database with one cheap query.

The tables only grow (deliveries by millions), so nothing here counts a whole table:
tasks and deliveries are counted over the last 24 hours through an index (task ids sort
by creation time, so a range on the primary key stands in for created_at), open tasks and
pending relay messages through their partial indexes, and table sizes are PostgreSQL's
own estimates.
"""

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import first_id_at
from app.metrics import families
from app.vocabulary import Outcome, TaskStatus

if TYPE_CHECKING:  # the runtime is built from the features, metrics among them
    from app.runtime import Runtime

WINDOW = 86_400.0  # seconds counted by the *_24h gauges
TABLES = ("tasks", "deliveries", "relay_messages", "relay_attempts", "idempotency_keys")

_COUNTS = text(
    """
    SELECT 'tasks_24h' AS metric, status AS label, count(*) AS value
      FROM tasks WHERE id >= :first_task GROUP BY status
    UNION ALL
    SELECT 'deliveries_24h', outcome, count(*)
      FROM deliveries WHERE received_at >= :since GROUP BY outcome
    UNION ALL
    SELECT 'relay_pending', 'pending', count(*) FROM relay_messages WHERE status = 'pending'
    UNION ALL
    SELECT 'oldest_open', '', coalesce(extract(epoch FROM now() - min(created_at)), 0)::bigint
      FROM tasks WHERE status IN ('pending', 'submitted')
    UNION ALL
    SELECT 'rows', relname, greatest(reltuples, 0)::bigint
      FROM pg_class WHERE relname = ANY(:tables) AND relkind = 'r'
    """
)


@dataclass(frozen=True, slots=True)
class Counts:
    """Every known status and outcome is present (0 when none), so no series disappears."""

    tasks_24h: dict[str, int]
    deliveries_24h: dict[str, int]
    relay_pending: int
    rows_estimate: dict[str, int]
    oldest_open_age: int = 0  # seconds since the oldest pending or submitted task began


async def counts(session: AsyncSession, *, commit: bool = True) -> Counts:
    """The figures; ends the transaction unless `commit` is False (the caller's own)."""
    now = time.time()
    since = datetime.fromtimestamp(now - WINDOW, UTC)
    params = {
        "first_task": first_id_at("tsk", now - WINDOW),
        "since": since,
        "tables": list(TABLES),
    }
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for metric, label, value in await session.execute(_COUNTS, params):
        found[metric][label] = int(value)
    if commit:
        await session.rollback()
    return Counts(
        tasks_24h={status: found["tasks_24h"].get(status, 0) for status in TaskStatus},
        deliveries_24h={outcome: found["deliveries_24h"].get(outcome, 0) for outcome in Outcome},
        relay_pending=found["relay_pending"].get("pending", 0),
        rows_estimate={table: found["rows"].get(table, 0) for table in TABLES},
        oldest_open_age=found["oldest_open"].get("", 0),
    )


@cache
def version() -> str:
    try:
        return metadata.version("fishhook")
    except metadata.PackageNotFoundError:
        return "unknown"


def observe(runtime: "Runtime") -> None:
    """Write this worker's figures, read from memory; a scrape sums them over the live
    workers."""
    families.intake_waiting.set(runtime.intake.waiting)
    families.long_polls.set(len(runtime.waiters))
    families.pool_checked_out.set(runtime.engine.pool.checkedout())  # type: ignore[attr-defined]
    families.pool_size.set(runtime.settings.db_pool_size)
