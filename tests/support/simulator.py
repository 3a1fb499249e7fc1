"""The simulator under test: its token, the receiver's URLs, id shapes, and `SimEnv`."""

import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.receiver import Receiver

TOKEN = "sim-test-token"
HOOK = "http://receiver.test/hook?token=abc"
FAILING_HOOK = "http://receiver.test/fail"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FISH_ID = re.compile(r"^[0-9a-f]{32}$")
# The simulator serves the files it generates itself (app/simulator/media.py).
AUDIO_URL = re.compile(r"^http://sim\.test/media/task/[0-9a-f]{32}\.mp3$")


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
