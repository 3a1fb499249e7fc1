"""Calling the API as a client would, and posting callbacks as AceData would."""

import json
from typing import Any

import httpx

from app.callbacks import credentials
from tests.support.fixtures import fixture
from tests.support.settings import CALLBACK_SECRET

VOICE = {"voice_url": "https://cdn.example.com/sample.mp3", "title": "test"}
SPEECH = {
    "text": "Hello from fishhook.",
    "reference_id": "fa75e7c3f02f42e79a6aa622b6cf075e",
}


def callback_path(task_ref: str, secret: str = CALLBACK_SECRET) -> str:
    url = credentials.callback_url("", secret.encode(), task_ref)
    return url


async def submit(client: httpx.AsyncClient, kind: str = "voice", **fields: Any) -> dict[str, Any]:
    path, base = ("/v1/voices", VOICE) if kind == "voice" else ("/v1/speech", SPEECH)
    answer = await client.post(path, json={**base, **fields})
    assert answer.status_code == 202, answer.text
    task: dict[str, Any] = answer.json()
    return task


async def post_callback(
    client: httpx.AsyncClient,
    task_ref: str,
    body: dict[str, Any] | bytes,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.post(
        callback_path(task_ref),
        content=content,
        headers={"content-type": "application/json", **(headers or {})},
        **kwargs,
    )


async def read(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/tasks/{task_id}")
    assert answer.status_code == 200, answer.text
    task: dict[str, Any] = answer.json()
    return task


async def state(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    """A task as read, without its deliveries count (which every request, kept or not, bumps)."""
    task = await read(client, task_id)
    task.pop("deliveries")
    return task


def tts_success(task_id: str) -> dict[str, Any]:
    """AceData's documented successful tts callback, for `task_id`."""
    body = fixture("tts_callback_success")
    body["task_id"] = task_id
    return body


async def logged(client: httpx.AsyncClient, delivery_id: str) -> dict[str, Any]:
    """A delivery as the deliveries log keeps it."""
    answer = await client.get(f"/v1/deliveries/{delivery_id}")
    assert answer.status_code == 200
    delivery: dict[str, Any] = answer.json()
    return delivery
