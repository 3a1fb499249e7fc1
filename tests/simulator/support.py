"""Helpers for simulator tests: a recording callback receiver, fixture bodies, bounded polling."""

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

TOKEN = "sim-test-token"
HOOK = "http://receiver.test/hook?token=abc"
FAILING_HOOK = "http://receiver.test/fail"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "acedata"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FISH_ID = re.compile(r"^[0-9a-f]{32}$")
# The simulator serves the files it generates itself (app/simulator/media.py).
AUDIO_URL = re.compile(r"^http://sim\.test/media/task/[0-9a-f]{32}\.mp3$")


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


async def eventually(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until `predicate()` holds, failing after `timeout` seconds instead of racing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def eventually_async(predicate: Callable[[], Awaitable[bool]], timeout: float = 2.0) -> None:
    """`eventually` for conditions that need a request to check."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A tiny webhook endpoint: /hook answers 200, /fail answers 500; both record the call."""

    calls: list[Received] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            await self._record(request)
            return Response(status_code=200)

        @app.post("/fail")
        async def fail(request: Request) -> Response:
            await self._record(request)
            return Response(status_code=500)

        return app

    async def _record(self, request: Request) -> None:
        self.calls.append(Received(request.url.path, dict(request.headers), await request.json()))


@dataclass
class SimEnv:
    client: httpx.AsyncClient
    receiver: Receiver

    async def fish(
        self,
        path: str,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        token: str | None = TOKEN,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        return await self.client.post(path, json=body, headers=sent)

    async def retrieve(self, task_id: str) -> httpx.Response:
        return await self.fish("/fish/tasks", {"action": "retrieve", "id": task_id})

    async def add_rule(self, rule: dict[str, Any]) -> None:
        response = await self.client.post("/_sim/rules", json=rule)
        assert response.status_code == 200, response.text

    async def all_jobs_finished(self) -> bool:
        return all("finished_at" in job for job in await self.listing("jobs"))

    async def listing(self, name: str) -> list[Any]:
        items: list[Any] = (await self.client.get(f"/_sim/{name}")).json()["items"]
        return items
