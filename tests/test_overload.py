"""Overload: when no database connection frees up within FISHHOOK_DB_POOL_TIMEOUT, answer 503.

Callbacks are stored on the intake's own connections, so an exhausted pool never refuses them."""

import asyncio
import time

import pytest
from sqlalchemy import text

from tests.support.api import callback_path, submit


@pytest.fixture
async def tight(serve):
    """The service with one pooled connection and a short wait for it."""
    changes = {"db_pool_timeout": 1.0, "db_read_pool_size": 1, "db_read_pool_timeout": 1.5}
    async with serve(db_pool_size=1, **changes) as (application, client):
        yield application, client


async def test_an_exhausted_pool_answers_503_with_retry_after_and_recovers(tight):
    app, client = tight
    task = await submit(client, "speech")
    body = {"task_id": task["task_id"], "audio_url": "https://x.test/a.mp3"}

    runtime = app.state.runtime
    async with runtime.engine.connect() as held, runtime.statements.pool.acquire():
        await held.execute(text("SELECT 1"))
        started = time.monotonic()
        answers = await asyncio.gather(*(client.get(f"/v1/tasks/{task['id']}") for _ in range(20)))
        waited = time.monotonic() - started
        assert {a.status_code for a in answers} == {503}
        assert all(a.headers["retry-after"] for a in answers)
        assert answers[0].headers["content-type"] == "application/problem+json"
        assert answers[0].json()["code"] == "database_unavailable"
        # Refused after the short wait, not queued behind one another.
        assert waited < 3

        # The callback does not need the pool: it is stored while the pool is exhausted.
        callback = await client.post(callback_path(task["id"]), json=body)
        assert callback.status_code == 200
        assert callback.json()["outcome"] == "applied"

    again = await client.get(f"/v1/tasks/{task['id']}")
    assert again.status_code == 200
    assert again.json()["status"] == "succeeded"
