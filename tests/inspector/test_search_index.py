"""The body search index, filled in the background: a delivery is found by a word in its body
from the moment it is stored, before the indexer reached it and after, and is gone from the
index with the delivery."""

from sqlalchemy import text

from app.ids import new_id
from app.inspector.indexer import BUSY_BATCH, Indexer
from tests.support.api import post_callback, submit


async def _count(app, sql: str, **params) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return int((await session.execute(text(sql), params)).scalar_one())


async def test_a_body_is_found_before_and_after_the_indexer_takes_it(app, client):
    indexer = app.state.runtime.inspector.indexer
    await indexer.drain()  # whatever earlier tests left
    task = await submit(client, "speech")
    body = {"task_id": task["task_id"], "audio_url": "https://x.test/a.mp3", "note": "axolotl"}
    delivery_id = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    waiting = "SELECT count(*) FROM delivery_search_backlog WHERE id = :id"
    indexed = "SELECT count(*) FROM delivery_search WHERE id = :id AND body_text LIKE '%axolotl%'"

    async with app.state.runtime.sessionmaker() as holding:
        # Locked, the row is skipped by the app's own indexer loop (SKIP LOCKED) meanwhile.
        lock = "SELECT id FROM delivery_search_backlog WHERE id = :id FOR UPDATE"
        assert (await holding.execute(text(lock), {"id": delivery_id})).scalar() == delivery_id
        assert await _count(app, indexed, id=delivery_id) == 0
        assert delivery_id in (await client.get("/ui/deliveries", params={"q": "AXOLOTL"})).text

    await indexer.drain()
    assert await _count(app, waiting, id=delivery_id) == 0
    assert await _count(app, indexed, id=delivery_id) == 1
    assert delivery_id in (await client.get("/ui/deliveries", params={"q": "axolotl"})).text
    nothing = (await client.get("/ui/deliveries", params={"q": "narwhal"})).text
    assert delivery_id not in nothing and "Nothing matches" in nothing


async def test_a_deleted_delivery_leaves_nothing_in_the_index(app, client):
    indexer = app.state.runtime.inspector.indexer
    task = await submit(client, "speech")
    body = {"task_id": task["task_id"], "audio_url": "https://x.test/a.mp3", "note": "pangolin"}
    delivery_id = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    await indexer.drain()
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(text("DELETE FROM deliveries WHERE id = :id"), {"id": delivery_id})
        await session.commit()
    assert (
        await _count(app, "SELECT count(*) FROM delivery_search WHERE id = :id", id=delivery_id)
        == 0
    )
    assert delivery_id not in (await client.get("/ui/deliveries", params={"q": "pangolin"})).text


async def test_while_callbacks_arrive_the_indexer_takes_small_batches(app):
    """A load that starts on an empty backlog meets a small batch first, not a full one: the
    indexer's work must not become a burst the callbacks queue behind."""
    await app.state.runtime.inspector.indexer.drain()
    ids = [new_id("dlv") for _ in range(3 * BUSY_BATCH)]
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(
            text(
                "INSERT INTO deliveries (id, source, method, query, headers, body, body_size, "
                "outcome) SELECT unnest(CAST(:ids AS text[])), 'callback', 'POST', '', '{}', "
                "'{\"task_id\": \"x\"}', 15, 'unmatched'"
            ),
            {"ids": ids},
        )
        await session.commit()
    assert await Indexer(app.state.runtime.sessionmaker).run_once() == BUSY_BATCH
