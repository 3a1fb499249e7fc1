"""Operating several processes: one /fish/tasks pace for all, metrics summed over a process's
workers, and JSON logs, with `fishhook serve` as two real processes of two workers each."""

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.database import empty_tables
from tests.support.processes import ROOT, Service, wait_until_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "e2e-operate-callback-secret-0123456789"
TASKS = 100


class LoggedService(Service):
    """`fishhook serve` with its log (stderr) kept in a file."""

    def __init__(self, log: Path, *args: str, **settings: str) -> None:
        super().__init__(*args, **settings)
        self.log = log

    def start(self) -> "LoggedService":
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)]
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stderr=err)
        wait_until_ready(f"{self.url}/readyz", self.proc, timeout=120)
        return self


@pytest.fixture
def two_processes(
    database_url: str, simulator_url: str, tmp_path: Path
) -> Iterator[list[LoggedService]]:
    settings = {
        "workers": "2",
        "callback_secret": SECRET,
        "log_format": "json",
        "log_level": "info",
        "reconcile_after": "0",
        "reconcile_interval": "0.5",
        "reconcile_batch": "10",  # 100 tasks: at least 10 lookups, so the pace shows
        "metrics_refresh_interval": "1",
    }
    services = [
        LoggedService(tmp_path / f"serve{n}.log", database_url, simulator_url, **settings)
        for n in range(2)
    ]
    asyncio.run(empty_tables(database_url))
    try:
        for service in services:
            service.start()
        yield services
    finally:
        for service in services:
            service.stop()
        asyncio.run(empty_tables(database_url))


async def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{url}/metrics")
    assert answer.status_code == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


async def until(check, timeout: float = 90.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(every)
    raise AssertionError(f"not within {timeout} s")


async def test_four_workers_share_one_pace_and_reconcile_each_lost_callback_once(
    two_processes, sim, database_url
):
    await sim.post("/_sim/rules", json={"callback": {"mode": "lost"}})
    first, second = two_processes
    async with httpx.AsyncClient(base_url=first.url, timeout=30) as api:
        for n in range(TASKS):
            answer = await api.post("/v1/speech", json={"text": f"lost callback {n}"})
            assert answer.status_code == 202, answer.text

    engine = create_async_engine(database_url)

    async def all_succeeded() -> bool:
        async with engine.connect() as conn:
            done = await conn.scalar(text("SELECT count(*) FROM tasks WHERE status = 'succeeded'"))
        return done == TASKS

    try:
        await until(all_succeeded, timeout=180)
        async with engine.connect() as conn:
            applied = await conn.scalar(
                text(
                    "SELECT count(*) FROM deliveries WHERE source = 'reconcile' AND outcome = 'applied'"
                )
            )
            twice = await conn.scalar(
                text(
                    "SELECT count(*) FROM deliveries WHERE source = 'reconcile' AND outcome <> 'applied'"
                )
            )
    finally:
        await engine.dispose()
    assert (applied, twice) == (TASKS, 0)  # every task reconciled, none twice

    recorded = (await sim.get("/_sim/requests")).json()["items"]
    times = sorted(r["time"] for r in recorded if r["path"] == "/fish/tasks")
    per_second: dict[int, int] = {}
    for t in times:
        per_second[int(t - times[0])] = per_second.get(int(t - times[0]), 0) + 1
    print(
        f"/fish/tasks: {len(times)} requests over {times[-1] - times[0]:.1f} s; per second {per_second}"
    )
    assert len(times) >= TASKS // 10
    # About 1/s across 2 processes x 2 workers (unpaced, each worker's own 1/s made ~4/s).
    # Slots are claimed at PostgreSQL's clock; a request may reach the fake a little late
    # on a busy host, so a window holds at most its length in requests, plus one.
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t < start + 5.0]
        assert len(in_window) <= 6, (start - times[0], in_window)
    assert (times[-1] - times[0]) / (len(times) - 1) >= 0.95
    assert max(per_second.values()) <= 2

    # Each process's scrape sums its own workers; the two processes together saw every lookup.
    first_scrape, second_scrape = await scrape(first.url), await scrape(second.url)
    finished = sum(
        s.get(("fishhook_reconcile_lookups_total", frozenset({("result", "finished")})), 0)
        for s in (first_scrape, second_scrape)
    )
    assert finished == TASKS


async def test_a_scrape_sums_the_workers_and_every_log_line_is_json(two_processes):
    first = two_processes[0]
    async with httpx.AsyncClient(base_url=first.url, timeout=10) as client:
        for _ in range(40):
            assert (
                await client.get("/healthz", headers={"x-request-id": "a b=c"})
            ).status_code == 200

    async def both_workers_counted():
        samples = await scrape(first.url)
        pool = samples.get(("fishhook_db_pool_size", frozenset()), 0)
        return samples if pool == 2 * 10 else None  # two workers, FISHHOOK_DB_POOL_SIZE 10 each

    samples = await until(both_workers_counted)
    route = frozenset({("method", "GET"), ("route", "/healthz"), ("status", "200")})
    assert samples[("fishhook_http_requests_total", route)] == 40  # whichever worker answered
    assert samples[("fishhook_processes", frozenset())] == 3  # the supervisor and two workers
    assert samples[("process_resident_memory_bytes", frozenset())] > 0
    assert samples[("fishhook_database_up", frozenset())] == 1

    for service in two_processes:
        service.stop()
    for service in two_processes:
        lines = [line for line in service.log.read_text().splitlines() if line.strip()]
        assert lines
        events = [json.loads(line) for line in lines]  # fails on any line that is not JSON
        assert all({"timestamp", "level", "logger", "event", "pid"} <= e.keys() for e in events)
