"""The benchmark's scale checks: throughput with a million rows already stored, and worker
memory across a million callbacks (`--preload N`, `--soak N`; off in a plain `make bench`)."""

import time
from collections.abc import Sequence
from typing import Any, overload

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.loadgen import build_request, closed_loop
from bench.servers import Server

JSON = {"Content-Type": "application/json"}

# Old-looking ids ("tsk_00...") sort before every real one, so listings stay as they were.
_PRELOAD_TASKS = """
INSERT INTO tasks (id, task_id, kind, status, input, output, result, created_at, updated_at,
                   finished_at)
SELECT 'tsk_00' || lpad(g::text, 24, '0'), 'preload-' || g, 'speech', 'succeeded',
       '{"text": "preloaded"}', '{"audio_url": "https://example.com/a.mp3"}',
       jsonb_build_object('task_id', 'preload-' || g, 'audio_url', 'https://example.com/a.mp3'),
       now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'
FROM generate_series(1, :n) AS g
"""
_PRELOAD_DELIVERIES = """
INSERT INTO deliveries (id, received_at, source, remote_addr, method, query, headers, body,
                        body_size, task_id, task_ref, outcome)
SELECT 'dlv_00' || lpad(g::text, 24, '0'), now() - interval '1 day', 'callback', '127.0.0.1',
       'POST', 'task=x&token=%5Bredacted%5D', '{"content-type": "application/json"}',
       convert_to('{"task_id": "preload-' || g || '", "audio_url": "https://example.com/a.mp3"}',
                  'UTF8'),
       80, 'preload-' || g, 'tsk_00' || lpad(g::text, 24, '0'), 'applied'
FROM generate_series(1, :n) AS g
"""


class Cycle(Sequence[bytes]):
    """`total` requests that go round `requests` (duplicates of callbacks already applied)."""

    def __init__(self, requests: list[bytes], total: int) -> None:
        self._requests, self._total = requests, total

    def __len__(self) -> int:
        return self._total

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            raise TypeError("Cycle takes single indexes")
        return self._requests[index % len(self._requests)]


def callback_requests(receiver: str, server: Server, jobs: list[dict[str, Any]]) -> list[bytes]:
    """Each job's callback body, to fishhook's per-task URL or to a reference's /callback."""
    requests = []
    for job in jobs:
        path = job["callback_url"] if receiver == "fishhook" else "/callback"
        requests.append(build_request("POST", server.url + path, job["body"], JSON))
    return requests


async def preload(database_url: str, rows: int) -> float:
    """Insert `rows` finished tasks and as many deliveries; seconds it took."""
    started = time.perf_counter()
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text(_PRELOAD_TASKS), {"n": rows})
        await conn.execute(text(_PRELOAD_DELIVERIES), {"n": rows})
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE tasks"))
        await conn.execute(text("ANALYZE deliveries"))
        # Flush the bulk insert now, so its checkpoint does not land in the measurement:
        # the question is what stored rows cost, not what writing them just cost.
        await conn.execute(text("CHECKPOINT"))
    await engine.dispose()
    return time.perf_counter() - started


async def applied_count(database_url: str, task_ids: list[str]) -> int:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM tasks WHERE task_id = ANY(:ids) AND status = 'succeeded'"),
            {"ids": task_ids},
        )
    await engine.dispose()
    return int(count or 0)


async def soak(server: Server, jobs: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """Worker RSS after the first thousand callbacks and after `total` (duplicates included)."""
    requests = callback_requests("fishhook", server, jobs)
    first = await closed_loop(server.url, Cycle(requests, 1000), 64)
    after_first = server.rss()
    rest = await closed_loop(server.url, Cycle(requests, total - 1000), 64)
    after_all = server.rss()
    growth = {
        name: (after_all[name] - rss) / rss
        for name, rss in after_first.items()
        if name in after_all
    }
    return {
        "callbacks": first.count + rest.count,
        "errors": first.errors + rest.errors + first.non_2xx + rest.non_2xx,
        "rps": round(rest.count / rest.elapsed) if rest.elapsed else 0,
        "rss_after_1000": after_first,
        "rss_after_all": after_all,
        "max_growth": max(growth.values(), default=0.0),
    }
