"""Group commit for live callbacks: concurrent deliveries share one statement and one commit.

Each request waits for the commit that holds its delivery, so a 2xx means committed (with
synchronous_commit on). One dispatcher takes what has arrived as a batch, starts its write
and waits up to STALL; only if the write stalls (on a row lock, say) does the next batch
start on a spare connection, since two statements at once would only halve both batches.
The connections are the intake's own, outside the pool: a batch is one round trip, and a
burst of API reads that drains the pool never holds callbacks up.
"""

import asyncio
from dataclasses import dataclass, field, replace

import asyncpg

from app.callbacks.announce import Announcer
from app.callbacks.batch import Applied, Row, apply_batch
from app.config import asyncpg_url
from app.db import COMMAND_TIMEOUT, CONNECT_TIMEOUT
from app.errors import ServiceUnavailable, database_unavailable, is_outage, is_refused_value
from app.log import get_logger

log = get_logger("fishhook.intake")

# How long `close` waits for statements it cancelled before it gives up on them.
CLOSE_TIMEOUT = 5.0
# A statement running this long no longer holds the next batch back.
STALL = 0.1


@dataclass(slots=True)
class _Waiting:
    row: Row
    done: "asyncio.Future[Applied]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    sent: bool = False  # its statement has gone to PostgreSQL


class Intake:
    def __init__(
        self,
        database_url: str,
        *,
        writers: int = 2,
        max_batch: int = 200,
        max_waiting: int = 5000,
        server_settings: dict[str, str] | None = None,
    ) -> None:
        self._dsn = asyncpg_url(database_url, dsn=True)
        # Settings.connection_settings; the triggers leave notifications to the announcer.
        self._server_settings = {**(server_settings or {}), "fishhook.notify": "deferred"}
        self._announcer = Announcer(self._dsn)
        self._writers = writers  # at most this many statements at once
        self._max_batch = max_batch
        self._max_waiting = max_waiting
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._closing = False
        self._spare: list[asyncpg.Connection] = []
        self._writes: set[asyncio.Task[None]] = set()
        # Writes with a statement in PostgreSQL, and the connection it runs on.
        self._running: dict[asyncio.Task[None], asyncpg.Connection] = {}
        self._dispatcher = asyncio.create_task(self._dispatch())

    @property
    def waiting(self) -> int:
        """Deliveries queued for a writer (/metrics)."""
        return self._queue.qsize()

    async def apply(self, row: Row) -> Applied:
        """Store `row` (and apply it); returns once it is committed."""
        if self._closing:
            raise _shutting_down()
        if self._queue.qsize() >= self._max_waiting:
            # Queueing without bound would only turn overload into timeouts and memory.
            raise ServiceUnavailable(
                "too many callbacks are waiting to be stored; retry shortly",
                code="overloaded",
                headers={"Retry-After": "1"},
            )
        waiting = _Waiting(row)
        self._queue.put_nowait(waiting)
        while True:
            try:
                return await asyncio.shield(waiting.done)
            except asyncio.CancelledError:
                if not waiting.sent:
                    waiting.done.cancel()  # the write leaves it out
                    raise
                # Its statement is in PostgreSQL: the caller hears how it ended.
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()

    async def close(self) -> None:
        """Stop, never answering 503 for a stored delivery.

        Deliveries not yet sent to PostgreSQL (queued, or their write still connecting)
        are answered 503. A statement already in PostgreSQL is cancelled there
        (pg_cancel_backend) and its outcome awaited: committed is answered 2xx, cancelled
        503. Only if PostgreSQL gives no answer within CLOSE_TIMEOUT is the connection
        dropped and the caller answered 503 without knowing; PostgreSQL then rolls back
        what had not committed.
        """
        self._closing = True
        self._dispatcher.cancel()
        running = dict(self._running)
        for write in self._writes - running.keys():
            write.cancel()
        if running:
            await _cancel_in_postgres(self._dsn, [c.get_server_pid() for c in running.values()])
            _, late = await asyncio.wait(running, timeout=CLOSE_TIMEOUT)
            for write in late:
                write.cancel()
        await asyncio.gather(self._dispatcher, *self._writes, return_exceptions=True)
        for conn in self._spare:
            conn.terminate()
        self._spare.clear()
        await self._announcer.close()
        while not self._queue.empty():
            _fail([self._queue.get_nowait()], _shutting_down())

    async def _dispatch(self) -> None:
        while True:
            busy = {write for write in self._writes if not write.done()}
            if len(busy) >= self._writers:
                await asyncio.wait(busy, return_when=asyncio.FIRST_COMPLETED)
            batch = [await self._queue.get()]
            try:
                # Requests whose bytes have already arrived get to join this batch.
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                _fail(batch, _shutting_down())
                raise
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            write = asyncio.create_task(self._write_batch(batch))
            self._writes.add(write)
            write.add_done_callback(self._writes.discard)
            await asyncio.wait(self._writes, timeout=STALL, return_when=asyncio.FIRST_COMPLETED)

    async def _write_batch(self, batch: list[_Waiting]) -> None:
        conn: asyncpg.Connection | None = None
        try:
            conn = await self._connection()
            await self._write(conn, batch)
        except Exception as exc:  # answer every waiter, whatever went wrong
            refusal = self._refusal(exc)
            if conn is None or refusal is not None:
                if conn is not None:
                    conn.terminate()
                    conn = None
                _fail(batch, refusal or _unavailable(exc))
            else:
                # One unstorable delivery, or one lost deadlock, must not fail the
                # others in its batch: each goes again on its own.
                for waiting in batch:
                    await self._write_alone(conn, waiting)
        finally:
            # Cancelled by close(), or anything else: nobody is left waiting.
            _fail(batch, _shutting_down())
            if conn is not None:
                if self._closing or conn.is_closed():
                    conn.terminate()
                else:
                    self._spare.append(conn)

    async def _connection(self) -> asyncpg.Connection:
        while self._spare:
            conn = self._spare.pop()
            if not conn.is_closed():
                return conn
        return await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT,
            command_timeout=COMMAND_TIMEOUT,
            server_settings=self._server_settings,
        )

    async def _write(self, conn: asyncpg.Connection, batch: list[_Waiting]) -> None:
        # Cancelled while it waited (in the queue, or while the write connected): left out.
        batch = [waiting for waiting in batch if not waiting.done.cancelled()]
        if not batch:
            return
        for waiting in batch:
            waiting.sent = True
        me = asyncio.current_task()
        assert me is not None
        self._running[me] = conn
        try:
            outcomes = await apply_batch(conn, [waiting.row for waiting in batch])
        except BaseException:
            # It may have committed unheard (a lost connection, a cancel): a waiter woken for
            # nothing only reads its task again.
            maybe = [_task_key(w.row) for w in batch if w.row.task_ref]
            self._announcer.announce(maybe, ("deliveries", "tasks"))
            raise
        finally:
            del self._running[me]
        finished = []
        for waiting in batch:
            applied = outcomes[waiting.row.id]
            if applied.outcome == "applied":
                finished.append(_task_key(waiting.row))
            if not waiting.done.done():
                waiting.done.set_result(applied)
        self._announcer.announce(finished, ("deliveries", "tasks") if finished else ("deliveries",))

    async def _write_alone(self, conn: asyncpg.Connection, waiting: _Waiting) -> None:
        """Try one delivery of a failed statement once more. If PostgreSQL refuses its
        values, it is logged as invalid; if it fails again for any other reason (a lock
        timeout, a deadlock), nothing of it was stored and the caller hears 503."""
        try:
            await self._write(conn, [waiting])
        except Exception as exc:
            refusal = self._refusal(exc)
            if refusal is None and is_refused_value(exc):
                await self._write_unstorable(conn, waiting, exc)
            else:
                _fail([waiting], refusal or _unavailable(exc))

    async def _write_unstorable(
        self, conn: asyncpg.Connection, waiting: _Waiting, refused: Exception
    ) -> None:
        """PostgreSQL refused this delivery: log it as invalid, without what it refused."""
        log.warning("delivery_unstorable", delivery=waiting.row.id, error=type(refused).__name__)
        try:
            await self._write(conn, [replace(waiting, row=unstorable(waiting.row))])
        except Exception as exc:
            _fail([waiting], self._refusal(exc) or exc)

    def _refusal(self, exc: Exception) -> ServiceUnavailable | None:
        """The 503 for a statement that failed for want of a database, not for its rows."""
        if self._closing:  # close() cancelled the statement: nothing committed
            return _shutting_down()
        return _unavailable(exc) if is_outage(exc) else None


def _task_key(row: Row) -> str:
    """The task as its trigger names it in a notification: "<id> <task_id>"."""
    return f"{row.task_ref} {row.task_id or ''}"


def unstorable(row: Row) -> Row:
    """The same delivery logged as invalid, without the parts PostgreSQL refused."""
    return replace(
        row,
        task_id=None,
        decided_outcome=row.decided_outcome or "invalid",
        detail="the body could not be stored as JSON",
        status=None,
        result=None,
        output=None,
        error=None,
        trace_id=None,
    )


async def _cancel_in_postgres(dsn: str, pids: list[int]) -> None:
    try:
        conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT)
        try:
            await conn.execute("SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid", pids)
        finally:
            await conn.close()
    except Exception as exc:  # the database is gone: the statements cannot commit either
        log.warning("intake_cancel_failed", error=type(exc).__name__)


def _unavailable(exc: BaseException) -> ServiceUnavailable:
    log.warning("database_unavailable", error=type(exc).__name__)
    return database_unavailable()


def _shutting_down() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the service is shutting down; retry shortly",
        code="shutting_down",
        headers={"Retry-After": "1"},
    )


def _fail(batch: list[_Waiting], exc: BaseException) -> None:
    for waiting in batch:
        if not waiting.done.done():
            waiting.done.set_exception(exc)
