"""GET /v1/tasks/{id}?wait=N: answers as soon as the task finishes, or after N seconds."""

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.api import read, submit
from tests.support.long_poll import finish, parked
from tests.support.polling import eventually


async def test_long_poll_answers_within_a_fraction_of_a_second_of_the_callback(app, client):
    task = await submit(client, "speech")
    waiting = asyncio.create_task(client.get(f"/v1/tasks/{task['id']}", params={"wait": 30}))
    await parked(app, 1)
    finished_at = await finish(client, task)
    answer = await waiting
    lag = time.monotonic() - finished_at
    assert answer.status_code == 200
    assert answer.json()["status"] == "succeeded"
    assert lag < 0.5, f"long-poll answered {lag:.3f} s after the callback"


async def test_long_poll_by_acedatas_task_id_wakes_too(app, client):
    task = await submit(client, "speech")
    waiting = asyncio.create_task(client.get(f"/v1/tasks/{task['task_id']}?wait=30"))
    await parked(app, 1)
    await finish(client, task)
    assert (await waiting).json()["status"] == "succeeded"


async def test_long_poll_on_a_finished_task_answers_at_once(app, client):
    task = await submit(client, "speech")
    await finish(client, task)
    started = time.monotonic()
    answer = await client.get(f"/v1/tasks/{task['id']}?wait=30")
    assert answer.json()["status"] == "succeeded"
    assert time.monotonic() - started < 1


async def test_long_poll_gives_the_current_state_after_the_wait(app, client):
    task = await submit(client, "speech")
    started = time.monotonic()
    answer = await client.get(f"/v1/tasks/{task['id']}?wait=0.3")
    assert time.monotonic() - started >= 0.3
    assert answer.json() == await read(client, task["id"])
    assert answer.json()["status"] == "submitted"
    assert len(app.state.runtime.waiters) == 0


async def test_wait_over_sixty_seconds_is_refused(client):
    task = await submit(client, "speech")
    answer = await client.get(f"/v1/tasks/{task['id']}?wait=61")
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"


async def test_long_poll_on_an_unknown_task_is_404(client):
    answer = await client.get("/v1/tasks/tsk_missing?wait=5")
    assert answer.status_code == 404
    assert answer.json()["code"] == "task_not_found"


async def test_long_poll_still_wakes_after_the_listen_connection_was_lost(
    app, client, database_url
):
    waiters = app.state.runtime.waiters
    pid = waiters._conn.get_server_pid()
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await engine.dispose()
    await eventually(
        lambda: waiters.listening and waiters._conn.get_server_pid() != pid,
        timeout=10,
        interval=0.05,
        what="the LISTEN connection reopened",
    )

    task = await submit(client, "speech")
    waiting = asyncio.create_task(client.get(f"/v1/tasks/{task['id']}?wait=30"))
    await parked(app, 1)
    finished_at = await finish(client, task)
    assert (await waiting).json()["status"] == "succeeded"
    assert time.monotonic() - finished_at < 0.5
