"""Group commit for live callbacks: concurrent deliveries share one statement and one commit.

Each request waits for the commit that holds its delivery, so a 2xx still means committed
(with synchronous_commit on). Under light load a batch is one delivery and costs what a
single statement costs; under a burst, a few writers each take everything queued so far.
A request cancelled before its batch commits (at the shutdown timeout) is answered 503, so
its delivery must not commit: the batch is rolled back and re-run without it.
"""

import asyncio
import logging
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine

from app.callbacks.batch import Applied, Row, apply_batch
from app.errors import ServiceUnavailable, is_outage

log = logging.getLogger("fishhook.intake")

_Waiting = tuple[Row, "asyncio.Future[Applied]"]


class Intake:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        writers: int = 2,
        max_batch: int = 200,
        max_waiting: int = 5000,
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._max_waiting = max_waiting
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._writers = [asyncio.create_task(self._write_forever()) for _ in range(writers)]

    @property
    def waiting(self) -> int:
        """Deliveries queued for a writer (/metrics)."""
        return self._queue.qsize()

    async def apply(self, row: Row) -> Applied:
        """Store `row` (and apply it); returns once it is committed."""
        if self._queue.qsize() >= self._max_waiting:
            # Queueing without bound would only turn overload into timeouts and memory.
            raise ServiceUnavailable(
                "too many callbacks are waiting to be stored; retry shortly",
                code="overloaded",
                headers={"Retry-After": "1"},
            )
        done: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((row, done))
        return await done

    async def close(self) -> None:
        for writer in self._writers:
            writer.cancel()
        await asyncio.gather(*self._writers, return_exceptions=True)

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            batch = [waiting for waiting in batch if not waiting[1].cancelled()]
            try:
                await self._write(batch)
            except asyncio.CancelledError:
                _fail(batch, _shutting_down())
                raise
            except Exception as exc:  # answer every waiter, whatever went wrong
                if len(batch) > 1 and not is_outage(exc):
                    # One unstorable delivery must not fail the others that share its batch.
                    for waiting in batch:
                        await self._write_alone(waiting)
                else:
                    _fail(batch, exc)

    async def _write(self, batch: list[_Waiting]) -> None:
        while batch:
            async with self._engine.connect() as conn:
                outcomes = await apply_batch(conn, [row for row, _ in batch])
                live = [waiting for waiting in batch if not waiting[1].cancelled()]
                if len(live) == len(batch):
                    await conn.commit()
                    break
                await conn.rollback()
            batch = live
        for row, done in batch:
            if not done.done():
                done.set_result(outcomes[row.id])

    async def _write_alone(self, waiting: _Waiting) -> None:
        row, done = waiting
        try:
            await self._write([waiting])
        except Exception as exc:
            if is_outage(exc):
                _fail([waiting], exc)
                return
            log.warning("delivery_unstorable id=%s error=%s", row.id, type(exc).__name__)
            try:
                await self._write([(unstorable(row), done)])
            except Exception as last:
                _fail([waiting], last)


def unstorable(row: Row) -> Row:
    """The same delivery logged as invalid, without the parts PostgreSQL refused."""
    return replace(
        row,
        task_id=None,
        fixed=row.fixed or "invalid",
        detail="the body could not be stored as JSON",
        status=None,
        result=None,
        output=None,
        error=None,
        trace_id=None,
    )


def _shutting_down() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the service is shutting down; retry shortly",
        code="shutting_down",
        headers={"Retry-After": "1"},
    )


def _fail(batch: list[_Waiting], exc: BaseException) -> None:
    for _, done in batch:
        if not done.done():
            done.set_exception(exc)
