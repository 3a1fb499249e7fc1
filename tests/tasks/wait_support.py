"""Long-poll test helpers: park waiters, then finish the task as AceData would."""

import asyncio
import time

from tests.acedata_fake import fixture
from tests.helpers import post_callback


async def parked(app, count: int, timeout: float = 10.0) -> None:
    """Until `count` long-polls are waiting in this process."""
    deadline = time.monotonic() + timeout
    while len(app.state.runtime.waiters) < count:
        assert time.monotonic() < deadline, f"{len(app.state.runtime.waiters)} waiters, not {count}"
        await asyncio.sleep(0.01)


async def finish(client, task: dict) -> float:
    """Post the success callback; the time it was answered (time.monotonic())."""
    body = fixture("tts_callback_success") | {"task_id": task["task_id"]}
    assert (await post_callback(client, task["id"], body)).status_code == 200
    return time.monotonic()
