"""Background work inside each service process: named loops started and stopped by the lifespan.

Work that must happen once across processes (relay, reconciliation) is claimed in the
database with FOR UPDATE SKIP LOCKED by the job itself; this module only runs the loops.
"""

import asyncio
from collections.abc import Awaitable, Callable

from app.log import get_logger

log = get_logger("fishhook.background")

Job = Callable[[], Awaitable[object]]


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def every(self, name: str, interval: float, job: Job) -> None:
        """Run `job` now and then every `interval` seconds; a failed run is logged, not fatal."""
        task = asyncio.create_task(self._loop(name, interval, job), name=name)
        self._tasks.add(task)

    async def _loop(self, name: str, interval: float, job: Job) -> None:
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background_job_failed", job=name)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
