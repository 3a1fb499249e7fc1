"""FISHHOOK_MAX_BODY_BYTES and FISHHOOK_CLIENT_TIMEOUT for every endpoint, enforced while the
body is read."""

import asyncio
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge


class RequestTimeout(HTTPException):
    """The body did not arrive in time: 408, and the connection is closed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408, f"the request body did not arrive within {seconds:g} s", {"Connection": "close"}
        )


class BodyLimitMiddleware:
    """Raises PayloadTooLarge from `receive` once a body passes the limit, and RequestTimeout
    once reading it has taken longer than `timeout` seconds.

    A declared Content-Length over the limit fails on the first read, before any byte is
    taken; a chunked body fails as soon as the running total passes it. Either way no more
    than `limit` bytes are ever held, and the route decides how to answer (the callback
    route logs the attempt first). Once the body is complete, `receive` waits as long as the
    route likes (for a disconnect, say).
    """

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 10.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = _content_length(scope)
        received = 0
        complete = False
        deadline = time.monotonic() + self.timeout

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            if declared is not None and declared > limit:
                raise PayloadTooLarge(limit)
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(self.timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
