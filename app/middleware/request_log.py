"""Request ids and the access log: one line per request, with the path only."""

import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.log import request_id

access = logging.getLogger("fishhook.access")


class RequestLogMiddleware:
    """Gives each request an id (X-Request-ID, or a fresh one) and logs one access line
    with the path only: query strings may carry credentials."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, b"x-request-id") or os.urandom(16).hex()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access.info(
                "request method=%s path=%s status=%s ms=%.1f",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )
            request_id.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text[:100]
    return None
