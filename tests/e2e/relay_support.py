"""End-to-end relay helpers: settings for fast retries, a signing secret, polling the API."""

import asyncio
import base64
import time

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


async def settled_relays(api, task_id: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
    """The task's relay messages once `count` exist and none is pending any more."""
    deadline = time.monotonic() + timeout
    items: list[dict] = []
    while time.monotonic() < deadline:
        items = (await api.get(f"/v1/tasks/{task_id}/relays")).json()["items"]
        if len(items) >= count and all(m["status"] != "pending" for m in items):
            return items
        await asyncio.sleep(0.05)
    raise AssertionError(f"relays of {task_id} did not settle: {items}")
