"""Pruning the deliveries log after FISHHOOK_DELIVERY_RETENTION_DAYS, keeping every result.

A delivery that applied is the task's result as AceData sent it: it is never pruned.
Batches are claimed with SKIP LOCKED, so several processes pruning at once share the work.
"""

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger("fishhook.deliveries")

BATCH = 1000

_PRUNE = text(
    """
DELETE FROM deliveries WHERE id IN (
    SELECT id FROM deliveries
    WHERE received_at < now() - make_interval(secs => :age) AND outcome <> 'applied'
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
"""
)


async def prune(sessionmaker: async_sessionmaker[AsyncSession], retention_days: float) -> int:
    """Delete old deliveries in short transactions; returns how many went."""
    total = 0
    while True:
        async with sessionmaker() as session:
            result = await session.execute(_PRUNE, {"age": retention_days * 86400, "batch": BATCH})
            await session.commit()
        deleted: int = result.rowcount  # type: ignore[attr-defined]
        total += deleted
        if deleted < BATCH:
            break
    if total:
        log.info("deliveries_pruned count=%s retention_days=%s", total, retention_days)
    return total
