"""Request ids, the access log and the HTTP metrics: one event and two samples per request.

The route is the template that matched (`/v1/tasks/{task_ref}`), never the raw path, so the
metrics' labels stay bounded and no id or credential reaches them; the access log has the
path without its query string (query strings carry callback credentials).
"""

import os
import re
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.log import get_logger, request_id
from app.metrics import families

access = get_logger("fishhook.access")

# A client's X-Request-ID is kept only when it is a plain token; anything else (spaces,
# quotes, newlines, a forged `status=500`) is replaced by a fresh id.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,100}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class BareRoute:
    """A route served outside FastAPI's router (see main.Fishhook): its endpoint puts one in
    `scope["route"]`, as the router does, so the request is counted by its template."""

    path: str


class RequestLogMiddleware:
    """Gives each request an id (a well-formed X-Request-ID, or a fresh one), logs one
    `request` event with the path only, and counts the request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _client_id(scope) or os.urandom(16).hex()
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
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = route_template(scope)
            families.http_requests.labels(method, route, str(status)).inc()
            families.http_duration.labels(route).observe(elapsed)
            access.info(
                "request",
                method=method,
                path=scope["path"],
                route=route,
                status=status,
                ms=round(elapsed * 1000, 1),
            )
            request_id.reset(token)


def route_template(scope: Scope) -> str:
    """The path template of the route that served the request; `unmatched` for a 404."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def _client_id(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            text: str = value.decode("latin-1")
            return text if _SAFE_ID.fullmatch(text) else None
    return None
