"""A fake AceData at the transport (httpx.MockTransport), answering with the documented bodies."""

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class FakeAceData:
    """Records every request; answers from `queued` (path -> responses) or with an accepted job."""

    requests: list[httpx.Request] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)  # time.monotonic() of each request
    # A queued exception is raised instead of answering (a dropped connection, a timeout).
    queued: dict[str, list[httpx.Response | Exception]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Runs before a submit is answered: lets a test deliver the callback first.
    before_answer: Callable[[httpx.Request], Awaitable[None]] | None = None

    def answer(
        self, path: str, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.queued.setdefault(path, []).append(
            httpx.Response(status, content=content, headers=headers)
        )

    def fail(self, path: str, error: Exception) -> None:
        self.queued.setdefault(path, []).append(error)

    def sent(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path]

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.sent_at.append(time.monotonic())
        path = request.url.path
        if self.before_answer is not None and path != "/fish/tasks":
            await self.before_answer(request)
        if self.queued.get(path):
            queued = self.queued[path].pop(0)
            if isinstance(queued, Exception):
                raise queued
            return queued
        if path == "/fish/tasks":
            ids = json.loads(request.content).get("ids", [])
            items = [self.records[i] for i in ids if i in self.records]
            return httpx.Response(200, json={"items": items, "count": len(items)})
        task_id = str(uuid.uuid4())
        if path == "/fish/tts":
            return httpx.Response(
                200, json={"task_id": task_id, "started_at": "2026-05-11T01:23:04.742Z"}
            )
        return httpx.Response(200, json={"task_id": task_id})
