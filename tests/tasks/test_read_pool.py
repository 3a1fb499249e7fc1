"""Single statements on their own pool (status reads, a submit's writes): reads queue longer
than writes before shedding load, and survive the database dropping their connections."""

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.statements import APPLICATION_NAME
from tests.support.api import submit


async def test_reads_queue_longer_than_writes_before_shedding(serve):
    changes = {"db_pool_timeout": 0.3, "db_read_pool_size": 1, "db_read_pool_timeout": 3}
    async with serve(db_pool_size=1, **changes) as (app, client):
        task = await submit(client, "speech")
        pool = app.state.runtime.statements.pool
        busy = await pool.acquire()
        asyncio.get_running_loop().call_later(
            1.0, lambda: asyncio.ensure_future(pool.release(busy))
        )
        started = time.monotonic()
        # A write (a submit) gives up after its 0.3 s; a read waits for the connection.
        refused, read = await asyncio.gather(
            client.post("/v1/speech", json={"text": "hello"}),
            client.get(f"/v1/tasks/{task['id']}"),
        )
        assert refused.status_code == 503
        assert refused.headers["retry-after"]
        assert read.status_code == 200, read.text
        assert read.json()["id"] == task["id"]
        assert time.monotonic() - started >= 0.9


async def test_reads_survive_the_database_dropping_their_connections(app, client, database_url):
    task = await submit(client, "speech")
    path = f"/v1/tasks/{task['id']}"
    # Several pooled read connections, then the database ends every one of them (as a
    # restart or an administrator does).
    assert {a.status_code for a in await asyncio.gather(*(client.get(path) for _ in range(5)))} == {
        200
    }
    assert app.state.runtime.statements.pool.get_size() >= 1
    assert await _end_pooled_connections(database_url) >= 1
    answers = await asyncio.gather(*(client.get(path) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    assert {a.json()["id"] for a in answers} == {task["id"]}


async def test_submits_survive_the_database_dropping_their_connections(app, client, database_url):
    await asyncio.gather(*(submit(client, "speech") for _ in range(3)))
    assert await _end_pooled_connections(database_url) >= 1
    tasks = await asyncio.gather(*(submit(client, "speech") for _ in range(5)))
    assert {t["status"] for t in tasks} == {"submitted"}
    for task in tasks:
        read = await client.get(f"/v1/tasks/{task['id']}")
        assert read.json()["task_id"] == task["task_id"]


async def _end_pooled_connections(database_url: str) -> int:
    """What a restart or an administrator does to the pool: ends each of its connections."""
    engine = create_async_engine(database_url)
    async with engine.connect() as admin:
        ended: int = await admin.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
    await engine.dispose()
    return ended
