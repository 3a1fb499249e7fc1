"""Relay tests: fast retry settings, a task finished with a receiver as its callback_url,
and its relay messages once they settle."""

import base64

from tests.support.api import post_callback, read, submit
from tests.support.fixtures import fixture
from tests.support.polling import eventually


async def finished_task(client, receiver, status: str = "succeeded") -> dict:
    """A speech task with `callback_url` = the receiver, finished by AceData's callback."""
    task = await submit(client, "speech", callback_url=receiver.url)
    body = fixture("tts_callback_success" if status == "succeeded" else "tts_callback_failure")
    body["task_id"] = task["task_id"]
    assert (await post_callback(client, task["id"], body)).status_code == 200
    return await read(client, task["id"])


async def relays_when(client, task_id: str, done, timeout: float = 10.0) -> list[dict]:
    """The task's relay messages, once `done(messages)` holds."""

    async def check() -> list[dict] | None:
        items = (await client.get(f"/v1/tasks/{task_id}/relays")).json()["items"]
        return items if done(items) else None

    return await eventually(check, timeout=timeout, interval=0.02, what=f"relays of {task_id}")


def settled(items: list[dict]) -> bool:
    return bool(items) and all(m["status"] != "pending" for m in items)


async def settled_relays(api, task_id: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
    """The task's relay messages once `count` exist and none is pending any more."""
    return await relays_when(api, task_id, lambda m: len(m) >= count and settled(m), timeout)


# For Settings.model_copy in-process: retries within a test's patience, to a local receiver.
QUICK_RELAYS = {
    "relay_allow_private": True,
    "relay_interval": 0.02,
    "relay_backoff_base": 0.02,
    "relay_backoff_max": 0.1,
}

RELAY_SECRET = "whsec_" + base64.b64encode(b"e2e-relay-secret-0123456789abcdef").decode()

# Fast test backoff: 0.05 s, 0.1 s, then 0.2 s between attempts; dead after 1.5 s.
FAST_RELAY = {
    "relay_secret": RELAY_SECRET,
    "relay_allow_private": "true",
    "relay_interval": "0.05",
    "relay_backoff_base": "0.05",
    "relay_backoff_max": "0.2",
    "relay_max_age": "1.5",
}


async def submit_with_webhook(api, url: str) -> dict:
    answer = await api.post("/v1/speech", json={"text": "relay me", "callback_url": url})
    assert answer.status_code == 202, answer.text
    return answer.json()
