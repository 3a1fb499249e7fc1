"""Pruning the deliveries log after FISHHOOK_DELIVERY_RETENTION_DAYS, keeping every result.

A delivery that applied is the task's result as AceData sent it: it is never pruned. The
batches and their locking are app.retention's, which prunes the other tables too.
"""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import retention


async def prune(sessionmaker: async_sessionmaker[AsyncSession], retention_days: float) -> int:
    """Delete old deliveries in short transactions; returns how many went."""
    return await retention.prune(
        sessionmaker, "deliveries", retention.DELIVERIES, retention_days * 86_400
    )
