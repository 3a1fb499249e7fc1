"""Long-polling: waiters parked on task ids, woken by PostgreSQL NOTIFY from any process.

Each process keeps one dedicated LISTEN connection outside the pool; a waiting request
holds no pool connection, only an asyncio.Event, so hundreds of waiters cost nothing.
The `tasks_finished` trigger (migration 0004) sends "<id> <task_id>" on `fishhook_tasks`;
for callbacks, intake sends them after its commit, several to a payload (callbacks.announce).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Protocol, TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import asyncpg_url
from app.db import CONNECT_TIMEOUT
from app.tasks import service
from app.tasks.models import Task
from app.tasks.reads import Reads
from app.tasks.schemas import TaskOut
from app.vocabulary import TERMINAL_STATUSES

log = logging.getLogger("fishhook.waiting")

CHANNEL = "fishhook_tasks"  # "<id> <task_id>" of every task that finishes
RELAY_CHANNEL = "fishhook_relay"  # a relay message was written (migration 0005)
# What changed, for the inspector's live pages: "deliveries", "tasks" or "relay" (migration
# 0006); "all" is sent to watchers when the connection comes back, since notifications
# sent while it was down are lost.
EVENTS_CHANNEL = "fishhook_events"
MAX_WAIT = 60.0


class Waiters:
    def __init__(self, database_url: str) -> None:
        self._dsn = asyncpg_url(database_url, dsn=True)
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._conn: asyncpg.Connection | None = None
        self._subscribers: list[Callable[[], None]] = []
        self._watchers: list[Callable[[str], None]] = []

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def listen(self) -> None:
        """(Re)connect the LISTEN connection if it is down; run at startup and periodically."""
        if self.listening:
            return
        conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT)
        await conn.add_listener(CHANNEL, self._notified)
        await conn.add_listener(RELAY_CHANNEL, self._relay_notified)
        await conn.add_listener(EVENTS_CHANNEL, self._changed)
        self._conn = conn
        # Notifications sent while no connection listened are lost: let every waiter re-read.
        self._wake_all()
        for watcher in self._watchers:
            watcher("all")

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever a relay message is written (the relay loop wakes on it)."""
        self._subscribers.append(callback)

    def on_change(self, callback: Callable[[str], None]) -> None:
        """Call `callback(what)` on every change notification (the inspector's live pages)."""
        self._watchers.append(callback)

    async def close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                await self._conn.close(timeout=2)
            self._conn = None
        self._wake_all()

    def _relay_notified(self, _conn: object, _pid: int, _channel: str, _payload: object) -> None:
        for callback in self._subscribers:
            callback()

    def _changed(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        for watcher in self._watchers:
            watcher(str(payload))

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        for key in str(payload).split():
            for event in self._waiters.get(key, ()):
                event.set()

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    @contextmanager
    def watch(self, key: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.setdefault(key, set()).add(event)
        try:
            yield event
        finally:
            events = self._waiters.get(key)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiters[key]

    def __len__(self) -> int:
        return sum(len(events) for events in self._waiters.values())


class _Finishing(Protocol):
    """A task as some read answers it: its status tells whether it has finished."""

    @property
    def status(self) -> str: ...


_Read = TypeVar("_Read", bound=_Finishing)


async def _until_finished(
    waiters: Waiters,
    key: str,
    seconds: float,
    read: Callable[[], Awaitable[_Read]],
    before_wait: Callable[[], Awaitable[None]] | None = None,
) -> _Read:
    """What `read` answers for task `key` once it is finished, or after `seconds` (at most
    MAX_WAIT); `before_wait` runs each time before the wait (to hand a connection back)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(seconds, MAX_WAIT)
    # Watch before the first read, so a NOTIFY between the read and the wait is not missed.
    with waiters.watch(key) as woke:
        task = await read()
        while task.status not in TERMINAL_STATUSES:
            if before_wait is not None:
                await before_wait()
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(woke.wait(), remaining)
            woke.clear()
            task = await read()
            if loop.time() >= deadline:
                break
    return task


async def wait_for_read(reads: Reads, waiters: Waiters, key: str, seconds: float) -> TaskOut:
    """Task `key` once it is finished, or as it stands after `seconds`. Each read takes a
    connection of the read pool only for its statement."""
    return await _until_finished(waiters, key, seconds, lambda: reads.task(key))


async def wait_for(session: AsyncSession, waiters: Waiters, key: str, seconds: float) -> Task:
    """Task `key` once it is finished, or as it stands after `seconds`, read with `session`
    (the AceData-compatible /fish routes; GET /v1/tasks/{id} uses wait_for_read)."""
    # The session hands its pool connection back before each wait, and once done.
    task = await _until_finished(
        waiters, key, seconds, lambda: service.get(session, key), session.close
    )
    await session.close()
    return task
