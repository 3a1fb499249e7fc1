"""What /metrics reports: database gauges read with one cheap query, and process gauges.

The tables only grow (deliveries by millions), so nothing here counts a whole table:
tasks and deliveries are counted over the last 24 hours through an index (task ids sort
by creation time, so a range on the primary key stands in for created_at), pending relay
messages through their partial index, and table sizes are PostgreSQL's own estimates.
"""

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import first_id_at
from app.metrics.exposition import gauge
from app.vocabulary import Outcome, TaskStatus

WINDOW = 86_400.0  # seconds counted by the *_24h gauges
TABLES = ("tasks", "deliveries", "relay_messages")

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
    SELECT 'rows', relname, greatest(reltuples, 0)::bigint
      FROM pg_class WHERE oid IN ('tasks'::regclass, 'deliveries'::regclass,
                                  'relay_messages'::regclass)
    """
)


@dataclass(frozen=True, slots=True)
class Counts:
    """Every known status and outcome is present (0 when none), so no series disappears."""

    tasks_24h: dict[str, int]
    deliveries_24h: dict[str, int]
    relay_pending: int
    rows_estimate: dict[str, int]


@dataclass(frozen=True, slots=True)
class Process:
    """This worker's own state, read from memory when scraped."""

    intake_waiting: int
    long_polls: int
    pool_checked_out: int
    pool_size: int


async def counts(session: AsyncSession) -> Counts:
    now = time.time()
    since = datetime.fromtimestamp(now - WINDOW, UTC)
    params = {"first_task": first_id_at("tsk", now - WINDOW), "since": since}
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for metric, label, value in await session.execute(_COUNTS, params):
        found[metric][label] = int(value)
    await session.rollback()
    return Counts(
        tasks_24h={status: found["tasks_24h"].get(status, 0) for status in TaskStatus},
        deliveries_24h={outcome: found["deliveries_24h"].get(outcome, 0) for outcome in Outcome},
        relay_pending=found["relay_pending"].get("pending", 0),
        rows_estimate={table: found["rows"].get(table, 0) for table in TABLES},
    )


def version() -> str:
    try:
        return metadata.version("fishhook")
    except metadata.PackageNotFoundError:
        return "unknown"


def render(db: Counts, process: Process) -> str:
    lines = [
        *gauge("fishhook_info", "fishhook's version", [({"version": version()}, 1)]),
        *gauge(
            "fishhook_tasks_24h",
            "Tasks created in the last 24 hours, by current status",
            [({"status": s}, n) for s, n in db.tasks_24h.items()],
        ),
        *gauge(
            "fishhook_deliveries_24h",
            "Requests logged as deliveries in the last 24 hours, by outcome",
            [({"outcome": o}, n) for o, n in db.deliveries_24h.items()],
        ),
        *gauge(
            "fishhook_relay_messages",
            "Relay messages not yet delivered nor dead",
            [({"status": "pending"}, db.relay_pending)],
        ),
        *gauge(
            "fishhook_table_rows_estimate",
            "Rows per table, as PostgreSQL estimates them (pg_class.reltuples)",
            [({"table": t}, n) for t, n in db.rows_estimate.items()],
        ),
        *gauge(
            "fishhook_intake_waiting",
            "Callbacks in this worker waiting for a database writer",
            [({}, process.intake_waiting)],
        ),
        *gauge(
            "fishhook_long_polls",
            "GET /v1/tasks/{id}?wait= requests waiting in this worker",
            [({}, process.long_polls)],
        ),
        *gauge(
            "fishhook_db_pool_checked_out",
            "Database connections this worker has checked out of its pool",
            [({}, process.pool_checked_out)],
        ),
        *gauge(
            "fishhook_db_pool_size",
            "Size of this worker's database pool (FISHHOOK_DB_POOL_SIZE)",
            [({}, process.pool_size)],
        ),
    ]
    return "\n".join(lines) + "\n"
