"""Requests cut short by shutdown: answered 503 problem+json instead of a dropped connection."""

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_JSON

_BODY = json.dumps(
    {
        "type": "about:blank",
        "title": "Service unavailable",
        "status": 503,
        "detail": "the service is shutting down; retry shortly",
        "code": "shutting_down",
    }
).encode()
_HEADERS = [
    (b"content-type", PROBLEM_JSON.encode()),
    (b"content-length", str(len(_BODY)).encode()),
    (b"retry-after", b"1"),
    (b"connection", b"close"),
]


class InFlight:
    """The requests being handled, so the lifespan can let cancelled ones answer first.

    uvicorn cancels requests still running at FISHHOOK_SHUTDOWN_TIMEOUT and goes straight on
    to the lifespan shutdown; without a pause there, a cancelled request never gets to run
    its handler and the caller sees a dropped connection.
    """

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[object]] = set()

    async def settle(self) -> None:
        """Wait for the requests still running; bound it with asyncio.timeout."""
        pending = {task for task in self.tasks if not task.done()}
        if pending:
            await asyncio.wait(pending)


class CancelledRequestMiddleware:
    """A request cancelled before it answered gets 503 + Retry-After.

    Its transaction never committed (a commit that had finished would have been answered),
    so telling the caller to retry is true.
    """

    def __init__(self, app: ASGIApp, in_flight: InFlight) -> None:
        self.app = app
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        if scope["type"] != "http" or task is None:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        self.in_flight.tasks.add(task)
        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if not started:
                await send({"type": "http.response.start", "status": 503, "headers": _HEADERS})
                await send({"type": "http.response.body", "body": _BODY})
            raise
        finally:
            self.in_flight.tasks.discard(task)
