"""Single statements on a small asyncpg pool of their own: the hot paths' database.

Status reads (GET /v1/tasks/{id}) and a submit's two writes are each one statement that
commits on its own. They skip SQLAlchemy's session and pool: in py-spy, a submit spent
about a third of its samples there (session, checkout, commit), twice per submit.

A statement never holds its connection across anything else (an HTTP call, a second
statement), so a few connections serve many requests, and the SQLAlchemy pool's
transactions (relay, archive, inspector) never make these queue. Each caller says how long
it waits for a connection before shedding load (503 with Retry-After): reads a little
longer than writes.

Every statement run here must be safe to run twice: one that fails because the database
dropped its pooled connection (a restart, pg_terminate_backend) expires the whole pool, so
no other request meets a stale connection either, and runs once more on a fresh one.
"""

import json

import asyncpg

from app.config import asyncpg_url
from app.db import COMMAND_TIMEOUT, CONNECT_TIMEOUT
from app.errors import database_unavailable, is_outage
from app.log import get_logger

log = get_logger("fishhook.statements")

APPLICATION_NAME = "fishhook-statements"
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


def _stale(exc: BaseException) -> bool:
    """Whether `exc` says the connection was dropped. A statement over its command_timeout
    raises TimeoutError, an OSError too: that one is not run again."""
    return isinstance(exc, _STALE) and not isinstance(exc, TimeoutError)


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """A statement here leaves no session state behind (no SET, LISTEN, lock or cursor),
    and asyncpg still rolls back an open transaction itself. Its default reset query cost a
    round trip per read: 16 % of a worker's samples under GET load (py-spy)."""


class Statements:
    """The pool, opened lazily: no connection is made until the first statement.

    jsonb parameters are Python objects (encoded with json.dumps), and come back decoded."""

    def __init__(self, url: str, size: int, server_settings: dict[str, str]) -> None:
        self._pool = asyncpg.create_pool(
            asyncpg_url(url, dsn=True),
            min_size=0,
            max_size=size,
            timeout=CONNECT_TIMEOUT,
            command_timeout=COMMAND_TIMEOUT,
            init=_init,
            reset=_nothing_to_reset,
            server_settings={**server_settings, "application_name": APPLICATION_NAME},
        )

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    async def open(self) -> None:
        await self._pool

    async def close(self) -> None:
        await self._pool.close()

    async def fetchrow(self, query: str, *args: object, wait: float) -> asyncpg.Record | None:
        """The first row of `query`, run on its own (committed when it returns). `wait`:
        seconds to wait for a free connection before answering 503."""
        try:
            return await self._fetchrow(query, args, wait, retried=False)
        except Exception as exc:
            if not _stale(exc):
                raise
            # Every pooled connection may be as stale as this one (the server restarted):
            # replace them all, then try once more.
            log.warning("statement_retried", error=type(exc).__name__)
            await self._pool.expire_connections()
            return await self._fetchrow(query, args, wait, retried=True)

    async def _fetchrow(
        self, query: str, args: tuple[object, ...], wait: float, *, retried: bool
    ) -> asyncpg.Record | None:
        try:
            conn = await self._pool.acquire(timeout=wait)
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
        except Exception as exc:
            if _stale(exc):
                conn.terminate()  # never back into the pool as it is
                if not retried:
                    raise
                raise database_unavailable() from None
            if is_outage(exc):  # a statement timeout among them
                raise database_unavailable() from exc
            raise
        finally:
            await self._pool.release(conn)
