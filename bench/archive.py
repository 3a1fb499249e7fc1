"""Archive throughput (files/s, MB/s) on loopback and memory during a large copy, next to a
reference: the same files downloaded by plain httpx into nothing (the ceiling: no hashing,
no disk, no database), and a 50 MB file read whole into memory (what a naive copy holds).

Run from the repository root: .venv/bin/python -m bench.archive
(needs PostgreSQL: BENCH_DATABASE_URL, else postgres@127.0.0.1:5432; makes and drops its
own database; the simulator serves the files).
"""

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.archive.files import FileStorage
from app.archive.worker import Archiver, archive_client
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.migrate import upgrade
from bench.servers import simulator

ADMIN = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SCENARIOS = [(200, 256 * 1024), (20, 5 * 1024 * 1024)]


async def admin(statement: str) -> None:
    engine = create_async_engine(ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


async def queue(url: str, media: str, count: int, tag: str) -> list[str]:
    """`count` speech tasks made to succeed: the trigger queues one file each."""
    engine = create_async_engine(url)
    urls = [f"{media}task/{tag}-{i}.mp3" for i in range(count)]
    async with engine.begin() as conn:
        for i, audio in enumerate(urls):
            await conn.execute(
                text(
                    "INSERT INTO tasks (id, kind, status, input, output) VALUES "
                    "(:id, 'speech', 'submitted', '{}', jsonb_build_object('audio_url', CAST(:u AS text)))"
                ),
                {"id": f"tsk_{tag}_{i}", "u": audio},
            )
        await conn.execute(text("UPDATE tasks SET status = 'succeeded' WHERE status = 'submitted'"))
    await engine.dispose()
    return urls


async def drain(archiver: Archiver) -> None:
    while await archiver.backlog():
        await archiver.sweep()


async def reference(urls: list[str], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60) as http:

        async def one(url: str) -> None:
            async with gate, http.stream("GET", url) as response:
                async for _ in response.aiter_raw(64 * 1024):
                    pass

        await asyncio.gather(*(one(u) for u in urls))


async def peak_rss_during(work: "asyncio.Future[object]") -> tuple[float, float]:
    me = psutil.Process()
    before = peak = me.memory_info().rss
    while not work.done():
        peak = max(peak, me.memory_info().rss)
        await asyncio.sleep(0.01)
    work.result()
    return before / 2**20, (peak - before) / 2**20


async def main() -> None:
    name = f"fishhook_bench_archive_{secrets.token_hex(3)}"
    await admin(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        with simulator() as sim, tempfile.TemporaryDirectory() as root:
            await run(url, sim, Path(root))
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(url: str, sim: str, root: Path) -> None:
    settings = Settings(_env_file=None, database_url=url, relay_allow_private=True)
    engine = create_engine(url, settings)
    storage = FileStorage(root)
    await storage.start(60)
    http = archive_client(settings)
    archiver = Archiver(create_sessionmaker(engine), http, storage, settings)
    media = f"{sim}/media/"
    print(f"archive to {root} (fsync on), {settings.archive_concurrency} copies at a time")
    print(f"{'files x size':>16} | {'fishhook archive':>26} | {'httpx to nowhere (ceiling)':>26}")
    async with httpx.AsyncClient() as control:
        for count, size in SCENARIOS:
            await control.post(f"{sim}/_sim/media/size", json={"size": size})
            urls = await queue(url, media, count, f"s{size}")
            started = time.perf_counter()
            await drain(archiver)
            ours = time.perf_counter() - started
            started = time.perf_counter()
            await reference(urls, settings.archive_concurrency)
            ceiling = time.perf_counter() - started
            mb = count * size / 1e6
            print(
                f"{count:>5} x {size / 2**20:>5.2f} MiB | "
                f"{count / ours:>7.1f} files/s {mb / ours:>7.1f} MB/s | "
                f"{count / ceiling:>7.1f} files/s {mb / ceiling:>7.1f} MB/s"
            )
        big = 50 * 1024 * 1024
        await control.post(f"{sim}/_sim/media/size", json={"size": big})
        [one] = await queue(url, media, 1, "big")
        before, grew = await peak_rss_during(asyncio.ensure_future(drain(archiver)))
        _, naive = await peak_rss_during(asyncio.ensure_future(control.get(one, timeout=60)))
    print(
        f"50 MiB copy: RSS {before:.0f} MiB before; peak growth {grew:.1f} MiB streamed by "
        f"the archive, {naive:.1f} MiB when read whole (reference)"
    )
    await http.aclose()
    await engine.dispose()


if __name__ == "__main__":
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    ).parse_args()  # --help says what it does instead of starting it
    asyncio.run(main())
