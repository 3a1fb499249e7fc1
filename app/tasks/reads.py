"""Status reads (GET /v1/tasks/{id}) on their own small asyncpg pool.

Polling a task's status is what clients do most, so it skips the ORM: one prepared
statement on a plain asyncpg connection, the answer serialised once by pydantic.

Its own pool, so that reads never queue behind writes, and wait a little longer for a
connection before shedding load (FISHHOOK_DB_READ_POOL_TIMEOUT; the answer is then 503 with
Retry-After). A read is idempotent: one that fails because the database dropped its pooled
connection (a restart, pg_terminate_backend) expires the whole pool, so no other request
meets a stale connection either, and runs once more on a fresh connection.
"""

import json
import logging

import asyncpg

from app.archive.service import files_sql
from app.config import asyncpg_url
from app.db import COMMAND_TIMEOUT, CONNECT_TIMEOUT
from app.errors import NotFound, database_unavailable, is_outage
from app.pagination import NUL
from app.tasks.schemas import TaskOut

log = logging.getLogger("fishhook.tasks")

# The columns of TaskOut, and what tasks.service adds: the deliveries naming the task, and
# its archived files.
# S608: no input in it, only columns and a subquery of our own.
_BY_ID_OR_TASK_ID = f"""
SELECT t.id, t.task_id, t.kind, t.status, t.input, t.output, t.result, t.error, t.trace_id,
       t.created_at, t.updated_at, t.finished_at,
       (SELECT count(*) FROM deliveries d WHERE d.task_ref = t.id) AS deliveries,
       {files_sql("t.id")} AS archive
FROM tasks t
WHERE t.id = $1 OR t.task_id = $1
"""  # noqa: S608
# What a dropped connection raises: it is worth one more try on a fresh one.
_STALE = (
    asyncpg.InterfaceError,  # "connection is closed"
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.AdminShutdownError,  # 57P01: terminated by an administrator, or shutdown
    asyncpg.CrashShutdownError,  # 57P02
    # "another operation is in progress": a connection left mid-statement when the server
    # ended it (seen when every pooled connection was terminated under concurrent reads).
    asyncpg.exceptions.InternalClientError,
    OSError,
)
APPLICATION_NAME = "fishhook-reads"


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """A read leaves no session state behind (no SET, LISTEN, lock or cursor), and asyncpg
    still rolls back an open transaction itself. Its default reset query cost a round trip
    per read: 16 % of a worker's samples under GET load (py-spy)."""


class Reads:
    """The read pool, opened lazily: no connection is made until the first read."""

    def __init__(self, url: str, size: int, timeout: float, public_url: str) -> None:
        self._pool = asyncpg.create_pool(
            asyncpg_url(url, dsn=True),
            min_size=0,
            max_size=size,
            timeout=CONNECT_TIMEOUT,
            command_timeout=COMMAND_TIMEOUT,
            init=_init,
            reset=_nothing_to_reset,
            server_settings={"application_name": APPLICATION_NAME},
        )
        self._timeout = timeout
        self._context = {"public_url": public_url}

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    async def open(self) -> None:
        await self._pool

    async def close(self) -> None:
        await self._pool.close()

    async def task(self, id_or_task_id: str) -> TaskOut:
        """The task by fishhook's id or by AceData's task_id."""
        if NUL in id_or_task_id:
            # No stored id can hold one (PostgreSQL text cannot), and the query would fail.
            raise NotFound(f"no task {id_or_task_id!r}", code="task_not_found")
        try:
            row = await self._fetchrow(_BY_ID_OR_TASK_ID, id_or_task_id)
        except _STALE as exc:
            # Every pooled connection may be as stale as this one (the server restarted):
            # replace them all, then try once more.
            log.warning("read_retried error=%s", type(exc).__name__)
            await self._pool.expire_connections()
            row = await self._fetchrow(_BY_ID_OR_TASK_ID, id_or_task_id, retried=True)
        if row is None:
            raise NotFound(f"no task {id_or_task_id!r}", code="task_not_found")
        return TaskOut.model_validate(dict(row), context=self._context)

    async def _fetchrow(
        self, query: str, *args: object, retried: bool = False
    ) -> asyncpg.Record | None:
        try:
            conn = await self._pool.acquire(timeout=self._timeout)
        except TimeoutError:
            # Every connection busy for the whole wait: shed load, the client retries.
            raise database_unavailable() from None
        except Exception as exc:
            if is_outage(exc):  # cannot connect: the database is down
                raise database_unavailable() from exc
            raise
        try:
            record: asyncpg.Record | None = await conn.fetchrow(query, *args)
            return record
        except _STALE:
            conn.terminate()  # never back into the pool as it is
            if not retried:
                raise
            raise database_unavailable() from None
        except Exception as exc:
            if is_outage(exc):
                raise database_unavailable() from exc
            raise
        finally:
            await self._pool.release(conn)
