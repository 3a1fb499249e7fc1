"""Long-poll test helpers: park waiters, then finish the task as AceData would."""

import time

from tests.support.api import post_callback
from tests.support.fixtures import fixture
from tests.support.polling import eventually


async def parked(app, count: int, timeout: float = 10.0) -> None:
    """Until `count` long-polls are waiting in this process."""
    waiters = app.state.runtime.waiters
    await eventually(lambda: len(waiters) >= count, timeout=timeout, what=f"{count} waiters")


async def finish(client, task: dict) -> float:
    """Post the success callback; the time it was answered (time.monotonic())."""
    body = fixture("tts_callback_success") | {"task_id": task["task_id"]}
    assert (await post_callback(client, task["id"], body)).status_code == 200
    return time.monotonic()
