"""Submit latency with and without Idempotency-Key, and the cost of reconciliation sweeps.

Run from the repository root: .venv/bin/python -m bench.submit_and_reconcile
(needs PostgreSQL on 127.0.0.1:5432; creates and drops its own database).
"""

import asyncio
import secrets
import statistics
import time
import uuid

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.main import create_app
from app.migrate import upgrade
from app.reconcile.pacer import Pacer
from app.reconcile.service import Reconciler
from tests.support.acedata_fake import FakeAceData
from tests.support.fixtures import fixture

admin = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
name = f"wt4_measure_{secrets.token_hex(3)}"


async def run(stmt):
    e = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with e.connect() as c:
        await c.execute(text(stmt))
    await e.dispose()


async def main(url):
    fake = FakeAceData()
    s = Settings(
        _env_file=None,
        database_url=url,
        acedata_base_url="https://a.test",
        acedata_token="t" * 20,
        callback_secret="x" * 32,
        reconcile_interval=3600,
    )
    app = create_app(s, acedata_transport=fake.transport)
    async with app.router.lifespan_context(app):
        await app.state.runtime.background.stop()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            body = {"voice_url": "https://cdn.example.com/a.mp3"}
            for label, hdr in (
                ("no key", lambda i: {}),
                ("new key", lambda i: {"Idempotency-Key": f"k{i}"}),
                ("replayed key", lambda i: {"Idempotency-Key": "k0"}),
            ):
                lat = []
                for i in range(300):
                    t = time.perf_counter()
                    r = await c.post("/v1/voices", json=body, headers=hdr(i))
                    lat.append(time.perf_counter() - t)
                    assert r.status_code == 202
                lat.sort()
                print(
                    f"submit {label}: median {statistics.median(lat) * 1000:.2f} ms p95 {lat[int(0.95 * len(lat))] * 1000:.2f} ms"
                )
        n = 1000
        ids = [str(uuid.uuid4()) for _ in range(n)]
        async with app.state.runtime.sessionmaker() as ses:
            await ses.execute(
                text(
                    "INSERT INTO tasks (id, task_id, kind, status, input, next_check_at) SELECT 'tsk_m' || t, t, 'voice', 'submitted', '{}', now() FROM unnest(CAST(:ids AS text[])) AS t"
                ),
                {"ids": ids},
            )
            await ses.commit()
        for t in ids:
            rec = fixture("tasks_retrieve_finished")
            rec["id"] = t
            rec["response"] = {**fixture("voices_callback_success"), "task_id": t}
            fake.records[t] = rec
        r = Reconciler(app.state.runtime.sessionmaker, app.state.runtime.acedata, s, Pacer(0))
        t0 = time.perf_counter()
        sw = await r.sweep()
        dt = time.perf_counter() - t0
        print(
            f"reconcile sweep, paced off: looked up {sw.looked_up}, applied {sw.applied} in {dt:.2f} s ({dt / sw.applied * 1000:.2f} ms per task)"
        )
        async with app.state.runtime.sessionmaker() as ses:
            await ses.execute(
                text(
                    "UPDATE tasks SET status='submitted', next_check_at=now() - interval '1 second' WHERE id LIKE 'tsk_m%'"
                )
            )
            await ses.commit()
        t0 = time.perf_counter()
        claimed = await r._claim()
        dt = time.perf_counter() - t0
        print(f"claim of one batch ({len(claimed)}) among {n} due tasks: {dt * 1000:.2f} ms")
        async with app.state.runtime.sessionmaker() as ses:
            await ses.execute(
                text(
                    "UPDATE tasks SET next_check_at = now() + interval '1 hour' WHERE id LIKE 'tsk_m%'"
                )
            )
            await ses.commit()
        r2 = Reconciler(app.state.runtime.sessionmaker, app.state.runtime.acedata, s, Pacer(0))
        lat = []
        for _ in range(50):
            t0 = time.perf_counter()
            await r2.sweep()
            lat.append(time.perf_counter() - t0)
        print(
            f"idle sweep (nothing due, {n} open tasks): median {statistics.median(lat) * 1000:.2f} ms"
        )


asyncio.run(run(f'CREATE DATABASE "{name}"'))
url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
try:
    upgrade(url)
    asyncio.run(main(url))
finally:
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
