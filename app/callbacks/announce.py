"""Telling every process what intake committed: NOTIFY, folded, after the commit.

Long-polls and the inspector's live pages wake on PostgreSQL notifications (app.tasks.waiting).
Other writers send them from triggers, in their transaction. Intake's own connections say
`fishhook.notify = deferred` (migration 0013), and the triggers leave the notifications to
this announcer, which folds what a worker commits within PACE into one statement.

Each notification wakes every listening backend and every worker's LISTEN connection; sent
from the triggers, that was three for each intake commit. Measured on 2026-11-30 (alternating
pairs, `make bench` at c=16 and its open loop at 1000/s): folded, callbacks at c=16 went from
0.89 and 0.91 of the raw receiver's rate to 1.01 and 1.00, and in the open loop CPU per callback
from 692 to 618-631 us (workers) and from 548-559 to 451-473 us (PostgreSQL). Sent after each
commit without folding, it was slower than from the triggers (one more round trip a batch).

A statement that only notifies commits without a WAL flush. One that fails is sent again, with
what came meanwhile, until the database answers or the worker stops. A notification lost to a
crash only delays a waiter to its deadline, where it reads again; a LISTEN connection that
comes back wakes everyone.
"""

import asyncio
from collections.abc import Iterable
from contextlib import suppress

import asyncpg

from app.db import COMMAND_TIMEOUT, CONNECT_TIMEOUT
from app.log import get_logger
from app.tasks.waiting import CHANNEL, EVENTS_CHANNEL

log = get_logger("fishhook.intake")

# What PostgreSQL takes in one payload is 8000 bytes; a task is "<id> <task_id>".
PAYLOAD_BYTES = 7000

# At most one notification statement per worker in this many seconds: what commits meanwhile
# goes in the next. A long-poll or a live page usually hears of a callback this much later.
PACE = 0.02
# A statement that failed is tried again at once on a new connection (an idle one may have
# been dropped), then after waits that double up to RETRY_MAX, keeping what it carried.
RETRY_MAX = 1.0
# Tasks kept for a database that does not answer; beyond, the oldest are dropped (their
# waiters read again at their deadline).
MAX_PENDING = 10_000
# How long `close` waits for what is left to be sent.
CLOSE_TIMEOUT = 2.0

_NOTIFY = "SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS n(c, p)"


class Announcer:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._tasks: list[str] = []  # "<id> <task_id>" of each task intake finished
        self._kinds: set[str] = set()  # what changed, for the live pages
        self._sending: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._sent_at = -PACE

    def announce(self, tasks: Iterable[str], kinds: Iterable[str]) -> None:
        """Notify, soon, that these tasks finished and these kinds of rows changed."""
        self._tasks.extend(tasks)
        if len(self._tasks) > MAX_PENDING:
            del self._tasks[:-MAX_PENDING]
        self._kinds.update(kinds)
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._send())

    async def close(self) -> None:
        """Send what is left (briefly), then close the connection."""
        if self._sending is not None:
            with suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._sending), CLOSE_TIMEOUT)
            self._sending.cancel()
            with suppress(BaseException):
                await self._sending
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while self._kinds:
            wait = self._sent_at + PACE - loop.time()
            if failures > 1:
                wait = max(wait, min(RETRY_MAX, PACE * 2**failures))
            await asyncio.sleep(wait)
            tasks, kinds = self._tasks, self._kinds
            self._tasks, self._kinds = [], set()
            try:
                if self._conn is None:
                    self._conn = await asyncpg.connect(
                        self._dsn,
                        timeout=CONNECT_TIMEOUT,
                        command_timeout=COMMAND_TIMEOUT,
                        server_settings={"application_name": "fishhook-announce"},
                    )
                await self._conn.execute(_NOTIFY, *notifications(tasks, kinds))
            except Exception as exc:
                failures += 1
                if failures == 2:  # once is a dropped idle connection; twice, an outage
                    log.warning("announce_failed", error=type(exc).__name__)
                self._tasks[:0] = tasks  # sent again with what came meanwhile
                self._kinds |= kinds
                if self._conn is not None:
                    self._conn.terminate()
                    self._conn = None
            else:
                failures = 0
            self._sent_at = loop.time()


def notifications(tasks: list[str], kinds: set[str]) -> tuple[list[str], list[str]]:
    """(channels, payloads): the finished tasks in payloads PostgreSQL takes, and each kind."""
    channels: list[str] = []
    payloads: list[str] = []
    chunk: list[str] = []
    size = 0
    for task in tasks:
        length = len(task.encode()) + 1
        if chunk and size + length > PAYLOAD_BYTES:
            channels.append(CHANNEL)
            payloads.append(" ".join(chunk))
            chunk, size = [], 0
        chunk.append(task)
        size += length
    if chunk:
        channels.append(CHANNEL)
        payloads.append(" ".join(chunk))
    for kind in sorted(kinds):
        channels.append(EVENTS_CHANNEL)
        payloads.append(kind)
    return channels, payloads
