"""AceData's own clients against fishhook (tests/fish): the targets they are pointed at, the
key fishhook runs with, and waiting for the task a blocking /fish submit created."""

from dataclasses import dataclass

import httpx
from acedatacloud import AsyncAceDataCloud

from tests.support.polling import eventually
from tests.support.processes import Service

API_KEY = "fish-e2e-key-0123456789abcdef"
# The SDK polls /fish/tasks every `poll_interval` seconds (3 by default): its own argument.
POLL = 0.05
AUDIO = "https://platform.r2.fish.audio/task/"
VOICE_SAMPLE = "https://cdn.example.com/sample.mp3"


@dataclass(frozen=True)
class Target:
    url: str
    token: str
    fishhook: Service | None  # None: the SDK talks to the simulator directly

    def client(self, token: str | None = None) -> AsyncAceDataCloud:
        # No SDK retries: an error must surface at once, not after its backoff.
        return AsyncAceDataCloud(token or self.token, base_url=self.url, max_retries=0)


async def accepted_task(client: httpx.AsyncClient) -> dict:
    """The newest task, once AceData accepted it (a blocking submit is still waiting)."""

    async def newest() -> dict | None:
        items = (await client.get("/v1/tasks")).json()["items"]
        return items[0] if items and items[0]["task_id"] else None

    task: dict = await eventually(newest, timeout=5.0, what="an accepted task")
    return task
