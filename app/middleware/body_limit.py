"""FISHHOOK_MAX_BODY_BYTES for every endpoint, enforced while the body is read."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge


class BodyLimitMiddleware:
    """Raises PayloadTooLarge from `receive` once a body passes the limit.

    A declared Content-Length over the limit fails on the first read, before any byte is
    taken; a chunked body fails as soon as the running total passes it. Either way no more
    than `limit` bytes are ever held, and the route decides how to answer (the callback
    route logs the attempt first).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = _content_length(scope)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise PayloadTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
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
