"""Hundreds of long-polls hold no database connection: a pool of two still serves everyone."""

import asyncio
import time

import pytest

from app.config import Settings
from tests.support.api import submit
from tests.support.long_poll import finish, parked

WAITERS = 300


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"db_pool_size": 2, "db_read_pool_size": 2})


async def test_three_hundred_waiters_do_not_exhaust_a_pool_of_two(app, client):
    task = await submit(client, "speech")
    waiting = [
        asyncio.create_task(client.get(f"/v1/tasks/{task['id']}?wait=30")) for _ in range(WAITERS)
    ]
    await parked(app, WAITERS)
    # While they all wait, the pools still serve other requests at once.
    started = time.monotonic()
    assert (await client.get("/v1/tasks")).status_code == 200
    assert time.monotonic() - started < 0.5

    finished_at = await finish(client, task)
    answers = await asyncio.gather(*waiting)
    everyone = time.monotonic() - finished_at
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["status"] for a in answers} == {"succeeded"}
    assert everyone < 3, f"{WAITERS} waiters took {everyone:.2f} s to be answered"
    print(f"\n{WAITERS} waiters, pool of 2: all answered {everyone:.3f} s after the callback")
