"""Pacing AceData's /fish/tasks (it asks for about 1 request/s) across every process.

`SharedPacer` claims each call's slot in PostgreSQL: a guarded upsert moves the pacer's
`next_allowed_at` one interval ahead only if that time has come, so of any number of
workers and processes sharing the database, one gets each slot and the others sleep until
the next. PostgreSQL's clock decides, so hosts with skewed clocks still share one pace.
`Pacer` is the same rule inside one process, without the database (tests, tools).
"""

import asyncio
import random
import time
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_CLAIM = text(
    """
INSERT INTO pacers (name, next_allowed_at)
VALUES (:name, clock_timestamp() + make_interval(secs => :interval))
ON CONFLICT (name) DO UPDATE
    SET next_allowed_at = clock_timestamp() + make_interval(secs => :interval)
    WHERE pacers.next_allowed_at <= clock_timestamp()
RETURNING 0::float8
"""
)
_WAIT = text(
    "SELECT greatest(extract(epoch FROM next_allowed_at - clock_timestamp()), 0)::float8"
    " FROM pacers WHERE name = :name"
)
# Added to each sleep, so workers that wake together do not all ask at the same instant.
JITTER = 0.05


class Pace(Protocol):
    async def wait(self) -> None: ...


class Pacer:
    """At most one call per `interval` in this process."""

    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._lock = asyncio.Lock()
        self._last = -float("inf")

    async def wait(self) -> None:
        """Return once the previous call is at least `interval` seconds ago."""
        async with self._lock:
            delay = self._last + self._interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._last = time.monotonic()


class SharedPacer:
    """At most one call per `interval` among every holder of a pacer named `name`."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], name: str, interval: float = 1.0
    ) -> None:
        self._sessionmaker = sessionmaker
        self._name = name
        self._interval = interval
        self._lock = asyncio.Lock()  # one claimant per worker: the others wait in line here

    async def wait(self) -> None:
        """Return once this caller holds the next slot."""
        async with self._lock:
            # Polling is the point: the slot is claimed in PostgreSQL, not signalled here.
            while (delay := await self._try_claim()) is not None:  # noqa: ASYNC110
                await asyncio.sleep(delay + random.uniform(0, JITTER))

    async def _try_claim(self) -> float | None:
        """None when the slot is ours; else seconds until the current one ends."""
        params = {"name": self._name, "interval": self._interval}
        async with self._sessionmaker() as session:
            claimed = (await session.execute(_CLAIM, params)).first()
            if claimed is None:
                waited = await session.scalar(_WAIT, params)
                await session.commit()
                return float(waited or 0.0)
            await session.commit()
            return None
