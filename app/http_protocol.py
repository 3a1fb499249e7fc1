"""uvicorn's httptools protocol with the limits uvicorn lacks: a deadline and a size bound for
each request head, and a cap on open connections per worker.

uvicorn's own timeout covers only an idle keep-alive connection: a client that sends its
head one byte a second holds a connection (and the buffer growing with it) for ever. Here a
head must be complete within FISHHOOK_CLIENT_TIMEOUT of its first byte and within
FISHHOOK_MAX_HEADER_BYTES, or the client is answered 408 or 431 and disconnected; the body's
deadline is kept by app.middleware.body_limit. `fishhook serve` runs uvicorn with this class
(see `uvicorn_options`).
"""

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import Settings, get_settings


@dataclass(frozen=True, slots=True)
class Limits:
    head_timeout: float
    max_head_bytes: int
    max_connections: int

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(settings.client_timeout, settings.max_header_bytes, settings.max_connections)


def _answer(status: int, reason: str, code: str, detail: str) -> bytes:
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": detail, "code": code}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class OneWritePerTurn:
    """A connection's transport whose writes within one turn of the event loop go out as one.

    uvicorn writes a response's head and its body separately: two send() calls, and on
    loopback each one runs the receiver's TCP processing too. Joined, a small answer is one
    call and one segment: under callbacks at c=16, the response writes fell from 11.5 % of a
    worker's samples (py-spy --native) to 4-5 %. Everything else is the transport's own.
    """

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def writelines(self, chunks: Iterable[bytes]) -> None:
        for data in chunks:
            self.write(data)

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()  # what was written before close() still goes, as with the transport
        self._transport.close()

    def _flush(self) -> None:
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedProtocol(HttpToolsProtocol):
    """HttpToolsProtocol, plus: head deadline (408), head size (431), connection cap (503)."""

    # Tests set their own; a served worker reads its settings.
    limits: ClassVar[Limits | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = self.limits or Limits.of(get_settings())
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneWritePerTurn(transport, self.loop))  # type: ignore[arg-type]
        # A connection that never sends a byte is held no longer than a slow one.
        self._head_timer = self.loop.call_later(self._limits.head_timeout, self._too_slow)
        if len(self.connections) > self._limits.max_connections:
            detail = f"this worker already holds {self._limits.max_connections} connections"
            self._refuse(503, "Service Unavailable", "too_many_connections", detail)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(self._limits.head_timeout, self._too_slow)
        super().data_received(data)
        # Still in the head after taking all of `data`: every byte counted belongs to it.
        if self._in_head and self._head_bytes > self._limits.max_head_bytes:
            limit = self._limits.max_head_bytes
            detail = f"the request line and headers are larger than {limit} bytes"
            self._refuse(431, "Request Header Fields Too Large", "headers_too_large", detail)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._cancel_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._head_timer = None
        detail = f"the request head did not arrive within {self._limits.head_timeout:g} s"
        self._refuse(408, "Request Timeout", "request_timeout", detail)

    def _cancel_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, reason: str, code: str, detail: str) -> None:
        self._cancel_timer()
        if not self.transport.is_closing():
            self.logger.warning("connection_refused status=%s code=%s", status, code)
            self.transport.write(_answer(status, reason, code, detail))
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What `fishhook serve` passes to uvicorn for the limits above."""
    return {
        "http": "app.http_protocol:GuardedProtocol",
        # An idle keep-alive connection is closed after this long (uvicorn's default is 5 s).
        "timeout_keep_alive": 5,
        # The h11 implementation, if ever chosen, bounds its head with the same figure.
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
