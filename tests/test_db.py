"""Read-only requests run without a transaction; that must never leak into the writers'."""

import asyncio

from sqlalchemy import func, select

from tests.support.api import submit


async def _now_twice(sessionmaker) -> tuple[object, object]:
    # now() is the start of the transaction: equal twice inside one, different outside.
    async with sessionmaker() as session:
        first = await session.scalar(select(func.now()))
        await asyncio.sleep(0.01)
        return first, await session.scalar(select(func.now()))


async def test_a_read_leaves_its_pooled_connection_transactional_for_the_next_writer(serve):
    # One pooled connection: the read and the write after it get the same one.
    async with serve(db_pool_size=1) as (app, client):
        task = await submit(client, "speech")
        assert (await client.get(f"/v1/tasks/{task['id']}")).status_code == 200

        first, second = await _now_twice(app.state.runtime.reader)
        assert first != second, "a reader's statements should each run on their own"

        first, second = await _now_twice(app.state.runtime.sessionmaker)
        assert first == second, "a writer's statements must share one transaction"
