"""The gauges that need the database, read in the background and served from memory.

A scrape never touches the database: each worker refreshes these figures every
FISHHOOK_METRICS_REFRESH_INTERVAL seconds (one cheap query, app.metrics.service.counts), so
/metrics answers at once while the database is down or the pool is drained; the figures
then keep their last values and `fishhook_database_up` says 0.

Other features add their own figures with `@probe`: an async function given a read-only
session, run after the built-in query on each refresh (the archive's gauges, say).
"""

import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.log import get_logger
from app.metrics import families, service

log = get_logger("fishhook.metrics")

# A refresh that takes longer than this is abandoned (statement_timeout, in ms).
STATEMENT_TIMEOUT_MS = 2000

Probe = Callable[[AsyncSession], Awaitable[None]]
_probes: list[Probe] = []


def probe(function: Probe) -> Probe:
    """Register `function` to run on every refresh (use as a decorator, at import)."""
    _probes.append(function)
    return function


async def refresh(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Read every database gauge once; False (and `fishhook_database_up` 0) on failure.

    In one transaction, which SET LOCAL needs (on an autocommit session it was refused with
    a warning in PostgreSQL's log every 5 s, and the refresh ran without its timeout)."""
    try:
        async with sessionmaker() as session:
            await session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
            publish(await service.counts(session, commit=False))
            for run in _probes:
                await run(session)
            await session.rollback()
    except Exception as exc:
        families.database_up.set(0)
        log.warning("metrics_refresh_failed", error=type(exc).__name__)
        return False
    families.database_up.set(1)
    families.snapshot_time.set(time.time())
    return True


def publish(counts: service.Counts) -> None:
    for status, n in counts.tasks_24h.items():
        families.tasks_24h.labels(status).set(n)
    for outcome, n in counts.deliveries_24h.items():
        families.deliveries_24h.labels(outcome).set(n)
    for table, n in counts.rows_estimate.items():
        families.table_rows.labels(table).set(n)
    families.relay_backlog.set(counts.relay_pending)
    families.tasks_open_oldest_age.set(counts.oldest_open_age)
