"""Fills the search index of delivery bodies in the background, so that intake never pays for it.

Intake only notes each new delivery in the backlog (a statement trigger, migration 0011: a
few µs a row); keeping a trigram index costs about 160 µs a row, which inside intake's
commit halved its throughput at 16 concurrent callbacks. This loop moves the backlog into
the index in batches. While callbacks keep arriving it works at most DUTY of the time, in
small batches, so a burst is not slowed; once they calm down it catches up at full speed.
Searches read the bodies still in the backlog directly (inspector/service.py), so nothing
is missed meanwhile.
Every worker of every process runs it; SKIP LOCKED shares the batches among them.
"""

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.ids import first_id_at

BATCH = 500
DUTY = 0.02  # of each worker's time, at most, while deliveries keep arriving
# A batch while they arrive. 500 rows cost PostgreSQL about 80 ms of one core: a burst the
# callbacks queued behind. Open loop at 1000/s (python -m bench.run's), fishhook's p99: 28.8
# and 29.0 ms with 500, 16.7 and 17.1 with 50 (alternating), 26.9 with 10 (more statements).
BUSY_BATCH = 50
IDLE_WAIT = 1.0  # seconds between looks at an empty backlog

# The newest delivery in the backlog, read in the same snapshot, says whether callbacks are
# arriving now (ids sort by creation time, app/ids.py).
_MOVE = text("""
WITH taken AS (
    DELETE FROM delivery_search_backlog WHERE id IN (
        SELECT id FROM delivery_search_backlog ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED
    )
    RETURNING id
), indexed AS (
    INSERT INTO delivery_search (id, body_text)
    SELECT d.id, encode(d.body, 'escape') FROM deliveries d JOIN taken USING (id)
    WHERE d.body IS NOT NULL
    ON CONFLICT (id) DO NOTHING
)
SELECT (SELECT count(*) FROM taken) AS taken, (SELECT max(id) FROM delivery_search_backlog)
""")


class Indexer:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        # Small batches unless the last one was full and found no callback arriving: a load
        # that starts while the backlog is empty meets a small batch first, not a full one.
        self._busy = True

    async def run_once(self) -> int:
        """Index one batch, then wait as long as the pace asks; returns the rows taken."""
        started = time.monotonic()
        size = BUSY_BATCH if self._busy else BATCH
        taken, newest = await self.index_batch(size)
        arriving = newest is not None and newest >= first_id_at("dlv", time.time() - 1)
        self._busy = arriving or taken < size
        if taken < size:
            await asyncio.sleep(IDLE_WAIT)
        elif arriving:
            # Callbacks are arriving: leave them the machine.
            await asyncio.sleep((time.monotonic() - started) * (1 - DUTY) / DUTY)
        return taken

    async def index_batch(self, size: int = BATCH) -> tuple[int, str | None]:
        """Move up to `size` deliveries from the backlog into the index: how many were taken,
        and the newest id in the backlog when it began."""
        async with self._sessionmaker() as session:
            row = (await session.execute(_MOVE, {"batch": size})).one()
            await session.commit()
        return int(row[0]), row[1]

    async def drain(self) -> int:
        """Index the whole backlog now (tests, benchmarks); returns the rows taken."""
        total = 0
        while (taken := (await self.index_batch())[0]) > 0:
            total += taken
        return total
