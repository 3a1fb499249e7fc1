"""Retention: every table that grows with traffic is pruned by a setting, in small batches.

- deliveries, except those that applied (task results): FISHHOOK_DELIVERY_RETENTION_DAYS (30)
- relay_messages delivered or dead, with their relay_attempts: FISHHOOK_RELAY_RETENTION_DAYS (30)
- idempotency_keys: FISHHOOK_IDEMPOTENCY_TTL (seconds, one day)

Pending relay messages are never pruned (they turn dead after FISHHOOK_RELAY_MAX_AGE). Each
batch is one short transaction of at most BATCH rows claimed with SKIP LOCKED, under a lock
timeout, with a pause between batches: inserts never wait on a prune, several processes
pruning at once share the work, and a prune never holds a lock a callback needs for long.
"""

import asyncio
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.log import get_logger
from app.metrics import families

log = get_logger("fishhook.retention")

BATCH = 1000
PAUSE = 0.05  # seconds between batches
LOCK_TIMEOUT_MS = 1000

DELIVERIES = text(
    """
DELETE FROM deliveries WHERE id IN (
    SELECT id FROM deliveries
    WHERE received_at < now() - make_interval(secs => :age) AND outcome <> 'applied'
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
"""
)
# relay_attempts go with their message (ON DELETE CASCADE).
RELAY_MESSAGES = text(
    """
DELETE FROM relay_messages WHERE id IN (
    SELECT id FROM relay_messages
    WHERE status IN ('delivered', 'dead') AND created_at < now() - make_interval(secs => :age)
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
"""
)
IDEMPOTENCY_KEYS = text(
    """
DELETE FROM idempotency_keys WHERE key IN (
    SELECT key FROM idempotency_keys
    WHERE created_at < now() - make_interval(secs => :age)
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
"""
)


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession], table: str, statement: TextClause, age: float
) -> int:
    """Delete rows older than `age` seconds in batches; returns how many went."""
    total = 0
    params: dict[str, Any] = {"age": age, "batch": BATCH}
    while True:
        async with sessionmaker() as session:
            await session.execute(text(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}"))
            result = await session.execute(statement, params)
            await session.commit()
        deleted: int = result.rowcount  # type: ignore[attr-defined]
        total += deleted
        families.pruned_rows.labels(table).inc(deleted)
        if deleted < BATCH:
            break
        await asyncio.sleep(PAUSE)
    if total:
        log.info("rows_pruned", table=table, count=total, age_seconds=age)
    return total


async def prune_all(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    day = 86_400.0
    return (
        await prune(sessionmaker, "deliveries", DELIVERIES, settings.delivery_retention_days * day)
        + await prune(
            sessionmaker, "relay_messages", RELAY_MESSAGES, settings.relay_retention_days * day
        )
        + await prune(sessionmaker, "idempotency_keys", IDEMPOTENCY_KEYS, settings.idempotency_ttl)
    )
