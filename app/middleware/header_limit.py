"""FISHHOOK_MAX_HEADER_BYTES for every endpoint: an oversized request head is answered 431
before anything reads, stores or parses it."""

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import PROBLEM_JSON

# Per header line: ": " and CRLF. Per request line: method, two spaces, " HTTP/1.1", CRLF.
_LINE_OVERHEAD = 4
_REQUEST_LINE_OVERHEAD = 20


def head_size(scope: Scope) -> int:
    """The size of the request line and header block as they came over the wire (near enough:
    the method and version are counted as their longest)."""
    target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
    headers = sum(len(name) + len(value) + _LINE_OVERHEAD for name, value in scope["headers"])
    return _REQUEST_LINE_OVERHEAD + target + 1 + headers


class HeaderLimitMiddleware:
    """Answers 431 problem+json, closing the connection, when the head is over `limit` bytes.

    It runs before any route: only the access log (the path, and at most 100 characters of
    X-Request-ID) sees the request, so a 40 MB header is never copied, parsed or written to
    the deliveries log.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.body = json.dumps(
            {
                "type": "about:blank",
                "title": "Request header fields too large",
                "status": 431,
                "detail": f"the request line and headers are larger than {limit} bytes",
                "code": "headers_too_large",
            }
        ).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or head_size(scope) <= self.limit:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(self.body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 431, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})
