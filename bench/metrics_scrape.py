"""`python -m bench.metrics_scrape`: how long GET /metrics takes, healthy and in trouble.

1. `fishhook serve --workers 2` (multiprocess metrics, as in production) after some traffic:
   scrapes over HTTP.
2. The app in this process (ASGI, no network): healthy, with the database unreachable, and
   with every pooled connection checked out.
Prints p50/p99/max in milliseconds per case, and the statuses seen, next to GET /healthz
(the cheapest answer the service has) measured the same way, as a reference.
"""

import argparse
import asyncio
import dataclasses
import os
import statistics
import time

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.config import Settings, asyncpg_url
from app.main import create_app
from bench import servers
from bench.run import drop_database, prepare_database


def summary(name: str, times: list[float], statuses: set[int]) -> str:
    ordered = sorted(t * 1000 for t in times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"| {name} | {len(ordered)} | {statistics.median(ordered):.2f} | {p99:.2f} "
        f"| {ordered[-1]:.2f} | {sorted(statuses)} |"
    )


async def timed(
    client: httpx.AsyncClient, count: int, path: str = "/metrics"
) -> tuple[list[float], set[int]]:
    times, statuses = [], set()
    for _ in range(count):
        started = time.perf_counter()
        answer = await client.get(path)
        times.append(time.perf_counter() - started)
        statuses.add(answer.status_code)
    return times, statuses


async def main(args: argparse.Namespace) -> None:
    admin = asyncpg_url(args.database_url) if args.database_url else servers.embedded_admin_url()
    db_url = await prepare_database(admin)
    rows = ["| case | scrapes | p50 ms | p99 ms | max ms | statuses |", "|---|---|---|---|---|---|"]
    try:
        with servers.simulator() as sim_url, servers.fishhook(db_url, sim_url, 2) as hook:
            async with httpx.AsyncClient(base_url=hook.url, timeout=30) as client:
                for n in range(200):
                    await client.get(f"/v1/tasks/tsk_{n}")
                    await client.get("/healthz")
                rows.append(
                    summary("serve, 2 workers, over HTTP", *await timed(client, args.count))
                )
                healthz = await timed(client, args.count, "/healthz")
                rows.append(summary("reference: GET /healthz, same", *healthz))
        settings = Settings(_env_file=None, database_url=db_url, db_pool_size=2, db_pool_timeout=1)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                rows.append(summary("in process, healthy", *await timed(client, args.count)))
                rows.append(
                    summary(
                        "reference: GET /healthz, same",
                        *await timed(client, args.count, "/healthz"),
                    )
                )
                working = app.state.runtime
                unreachable = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
                down = async_sessionmaker(unreachable)
                app.state.runtime = dataclasses.replace(working, sessionmaker=down, reader=down)
                rows.append(
                    summary("in process, database unreachable", *await timed(client, args.count))
                )
                app.state.runtime = working
                await unreachable.dispose()
                async with working.engine.connect(), working.engine.connect():
                    rows.append(
                        summary("in process, pool drained", *await timed(client, args.count))
                    )
    finally:
        await drop_database(admin, db_url)
    print("\n".join(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    asyncio.run(main(parser.parse_args()))
