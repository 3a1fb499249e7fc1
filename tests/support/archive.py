"""The archive's tests share: a real media server on loopback (app/simulator/media.py) and
tasks that succeed with its URLs."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from app.simulator.media import MediaState, create_media_app
from tests.support.api import post_callback, read, submit
from tests.support.receiver import free_port


@dataclass
class Media:
    url: str  # base URL, ending in /media/
    state: MediaState

    def file(self, path: str) -> str:
        return f"{self.url}{path}"


@asynccontextmanager
async def media_server() -> AsyncIterator[Media]:
    app = create_media_app()
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="critical",
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield Media(f"http://127.0.0.1:{port}/media/", app.state.media)
    finally:
        server.should_exit = True
        await task


async def speech_succeeded(client: httpx.AsyncClient, audio_url: str) -> dict[str, Any]:
    task = await submit(client, "speech")
    answer = await post_callback(
        client, task["id"], {"task_id": task["task_id"], "audio_url": audio_url}
    )
    assert answer.status_code == 200, answer.text
    return task


async def archived(
    client: httpx.AsyncClient,
    task_id: str,
    *,
    until: tuple[str, ...] = ("stored", "failed"),
    timeout: float = 20,
) -> dict[str, Any]:
    """The task once its archive reached one of `until` (polled as a client would)."""
    deadline = time.monotonic() + timeout
    while True:
        task = await read(client, task_id)
        archive = task.get("archive")
        if archive is not None and all(f["status"] in until for f in archive["files"]):
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"archive still {archive} after {timeout} s")
        await asyncio.sleep(0.05)


def quick(media: Media, **changes: Any) -> dict[str, Any]:
    """Settings for tests: the media server is on loopback, retries come fast."""
    return {
        "relay_allow_private": True,
        "archive_interval": 0.05,
        "archive_backoff_base": 0.05,
        "archive_timeout": 5.0,
        "archive_media_base_url": media.url,
        **changes,
    }
