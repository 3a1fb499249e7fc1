"""A client's webhook receiver: an ASGI app that records every request and answers from a
script. Served over real HTTP (`serve`, uvicorn on a free port) or over ASGITransport."""

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from tests.support.polling import eventually


@dataclass
class Received:
    at: float  # time.monotonic()
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers `script` in order (status, headers), then by path from `answers`, else
    `default`, for ever after."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: int = 200
    answers: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(time.monotonic(), scope["path"], headers, body))
        if self.script:
            status, extra = self.script.pop(0)
        else:
            status, extra = self.answers.get(scope["path"], self.default), {}
        raw_headers = [(b"content-type", b"text/plain")]
        raw_headers += [(k.encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": f"answer {status}".encode()})

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        await eventually(
            lambda: len(self.received) >= count,
            timeout=timeout,
            what=f"{count} requests",
        )
        return self.received


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serve(receiver: Receiver) -> AsyncIterator[Receiver]:
    port = free_port()
    config = uvicorn.Config(
        receiver,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws="none",
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()  # it failed to start: say why
        return bool(server.started)

    await eventually(started, timeout=10.0, what="the receiver")
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
