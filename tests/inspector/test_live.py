"""Live pages: what PostgreSQL NOTIFYs (migration 0006) reaches every open event stream."""

import asyncio

import pytest

from tests.support.api import post_callback, submit


async def _next(changes, seconds=5.0):
    return await asyncio.wait_for(anext(changes), seconds)


async def test_a_submit_and_a_callback_reach_the_browsers_streams(app, client):
    live = app.state.runtime.inspector.live
    first, second = live.changes(), live.changes()
    waiting = [asyncio.ensure_future(_next(first)), asyncio.ensure_future(_next(second))]
    await asyncio.sleep(0.05)
    task = await submit(client, "speech")
    assert all("tasks" in kinds for kinds in await asyncio.gather(*waiting))

    await post_callback(
        client, task["id"], {"task_id": task["task_id"], "audio_url": "https://x.test/a.mp3"}
    )
    seen: set[str] = set()
    while not {"deliveries", "tasks"} <= seen:
        seen |= set((await _next(first)).split())
    await first.aclose()
    await second.aclose()
    assert len(live) == 0


async def test_the_event_stream_needs_a_session_when_keys_are_set(serve):
    from pydantic import SecretStr

    async with serve(api_keys=[SecretStr("live-test-key-0123456789")]) as (_, client):
        assert (await client.get("/ui/events")).status_code == 401


@pytest.mark.parametrize("what", ["deliveries", "relay", "something-else"])
async def test_notifications_fold_into_one_event_per_wakeup(app, what):
    live = app.state.runtime.inspector.live
    changes = live.changes()
    pending = asyncio.ensure_future(_next(changes))
    await asyncio.sleep(0.05)
    for _ in range(5):
        live.publish(what)
    assert await pending == (what if what != "something-else" else "all")
    await changes.aclose()
