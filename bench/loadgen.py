"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, no client library).

httpx would spend more CPU than the servers it measures; this sends pre-built requests.
Closed loop: C connections each send their next request when the last one is answered.
Open loop: requests are due at a fixed rate; latency counts from when each was *due*, so
a stalled server cannot hide its queue (no coordinated omission).
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered request
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    acknowledged: list[int] = field(default_factory=list)  # indexes answered 2xx
    elapsed: float = 0.0
    # Closed loop: requests answered on each connection, by its local port, and the worker
    # pid that served each port (filled in by `owners`, just before the connections close).
    per_connection: dict[int, int] = field(default_factory=dict)
    owners: dict[int, int] = field(default_factory=dict)

    def per_worker(self) -> dict[int, tuple[int, int]]:
        """Worker pid: (requests, connections) it served."""
        served: dict[int, tuple[int, int]] = {}
        for port, count in self.per_connection.items():
            pid = self.owners.get(port, 0)
            requests, connections = served.get(pid, (0, 0))
            served[pid] = (requests + count, connections + 1)
        return served

    @property
    def count(self) -> int:
        """Requests answered (any status); transport errors are counted apart."""
        return len(self.latencies)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def non_2xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300)


def build_request(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.server_port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.port = 0

    async def request(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.server_port)
            self.port = self.writer.get_extra_info("sockname")[1]
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _record(outcome: Outcome, index: int, status: int, started: float) -> None:
    outcome.latencies.append(time.perf_counter() - started)
    outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
    if 200 <= status < 300:
        outcome.acknowledged.append(index)


async def closed_loop(
    url: str,
    requests: Sequence[bytes],
    concurrency: int,
    owners: Callable[[], dict[int, int]] | None = None,
) -> Outcome:
    """`owners`: called while every connection is still open; maps local ports to the
    worker that serves each (see Outcome.per_worker)."""
    parts = urlsplit(url)
    outcome = Outcome()
    cursor = iter(range(len(requests)))
    connections = [
        _Connection(parts.hostname or "127.0.0.1", parts.port or 80) for _ in range(concurrency)
    ]

    async def worker(conn: _Connection) -> None:
        for index in cursor:
            started = time.perf_counter()
            try:
                status = await conn.request(requests[index])
            except (OSError, asyncio.IncompleteReadError, ValueError):
                outcome.errors += 1
                conn.close()
                continue
            _record(outcome, index, status, started)
            outcome.per_connection[conn.port] = outcome.per_connection.get(conn.port, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(conn) for conn in connections))
    outcome.elapsed = time.perf_counter() - began
    if owners is not None:
        outcome.owners = owners()
    for conn in connections:
        conn.close()
    return outcome


async def open_loop(
    url: str, requests: list[bytes], rate: float, connections: int = 256
) -> Outcome:
    """Request i is due at start + i/rate; it waits for a free connection if none is idle."""
    parts = urlsplit(url)
    outcome = Outcome()
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(_Connection(parts.hostname or "127.0.0.1", parts.port or 80))
    began = time.perf_counter()

    async def one(index: int, due: float) -> None:
        conn = await idle.get()
        try:
            status = await conn.request(requests[index])
        except (OSError, asyncio.IncompleteReadError, ValueError):
            outcome.errors += 1
            conn.close()
            return
        finally:
            idle.put_nowait(conn)
        _record(outcome, index, status, due)

    pending = []
    for index in range(len(requests)):
        due = began + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*pending)
    outcome.elapsed = time.perf_counter() - began
    while not idle.empty():
        idle.get_nowait().close()
    return outcome
