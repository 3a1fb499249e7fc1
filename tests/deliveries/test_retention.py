"""Pruning the deliveries log: old requests go, the ones that applied a result stay."""

import copy

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.deliveries.retention import prune
from app.main import create_app
from tests.support.api import post_callback, submit
from tests.support.fixtures import fixture
from tests.support.polling import eventually


async def age_all_deliveries(database_url: str, days: int) -> None:
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE deliveries SET received_at = now() - make_interval(days => :d)"),
            {"d": days},
        )
    await engine.dispose()


async def outcomes(client) -> list[str]:
    return sorted(d["outcome"] for d in (await client.get("/v1/deliveries")).json()["items"])


async def test_old_deliveries_are_pruned_but_never_the_one_that_applied(client, app, database_url):
    task = await submit(client)
    body = copy.deepcopy(fixture("voices_callback_success"))
    body["task_id"] = task["task_id"]
    await post_callback(client, task["id"], body)
    await post_callback(client, task["id"], body)
    await post_callback(client, task["id"], b"garbage")
    await age_all_deliveries(database_url, 31)
    await post_callback(client, task["id"], body)  # recent: kept

    assert await prune(app.state.runtime.sessionmaker, 30) == 2
    assert await outcomes(client) == ["applied", "duplicate"]
    assert (await client.get(f"/v1/tasks/{task['id']}")).json()["status"] == "succeeded"


async def test_deliveries_within_retention_are_kept(client, app, database_url):
    task = await submit(client)
    await post_callback(client, task["id"], b"garbage")
    await age_all_deliveries(database_url, 29)
    assert await prune(app.state.runtime.sessionmaker, 30) == 0
    assert await outcomes(client) == ["invalid"]


async def test_the_service_prunes_in_the_background(client, settings, acedata, database_url):
    task = await submit(client)
    await post_callback(client, task["id"], b"garbage")
    await age_all_deliveries(database_url, 2)

    short = settings.model_copy(
        update={"delivery_retention_days": 1, "delivery_prune_interval": 0.05}
    )
    pruning = create_app(short, acedata_transport=acedata.transport)
    async with pruning.router.lifespan_context(pruning):

        async def pruned() -> bool:
            return not await outcomes(client)

        await eventually(pruned, timeout=10, interval=0.05, what="pruning")
    assert await outcomes(client) == []
