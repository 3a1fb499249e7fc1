"""The inspector's search at scale: deliveries found by a word in their bodies or by an id,
over N (1,000,000) stored deliveries, through the very query the page runs.

    .venv/bin/python -m bench.search [--rows 1000000] [--backlog 20000] [--database-url ...]

--backlog leaves the newest deliveries to the background indexer (app/inspector/indexer.py),
as after a burst of callbacks: searched so, then timed while the indexer drains them, then
searched again.

Makes a scratch database on BENCH_DATABASE_URL's server (else FISHHOOK_TEST_DATABASE_URL's),
migrated to head, fills it with callback-shaped bodies (AceData's tts and voice shapes with
random ids, and words of known frequency), then times each search (median and p95 of
repeated runs, first page of 50, as the page asks) and prints the plans' first lines.
"""

import argparse
import asyncio
import hashlib
import os
import secrets
import statistics
import time

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.inspector import service
from app.inspector.indexer import Indexer
from app.migrate import upgrade
from tests.support.database import run_admin as _admin

# One body in 100,000 says "quokka", one in 100 "zebra"; every one has "audio_url" or "voice".
_FILL = text(
    """
    INSERT INTO deliveries (id, received_at, source, remote_addr, method, query, headers, body,
                            body_size, task_id, task_ref, outcome)
    SELECT 'dlv_' || lpad(upper(to_hex(i)), 26, '0'),
           now() - make_interval(secs => (:end - i) * 2.5),
           'callback', '203.0.113.' || (i % 250), 'POST',
           'task=tsk_' || lpad(to_hex(i), 26, '0') || '&token=%5Bredacted%5D',
           '{"content-type": "application/json", "user-agent": "AceDataCloud-Callback/1.0"}',
           convert_to(CASE WHEN i % 3 = 0 THEN
             '{"success": true, "task_id": "' || md5(i::text)::uuid || '", "trace_id": "'
             || md5('t' || i)::uuid || '", "data": {"_id": "' || md5('v' || i) || '", "title": "'
             || (ARRAY['Narrator', 'Announcer', 'Storyteller', 'Coach', 'Guide'])[1 + i % 5]
             || CASE WHEN i % 100000 = 7 THEN ' quokka' ELSE '' END
             || CASE WHEN i % 100000 = 9 THEN ' okapi' ELSE '' END
             || CASE WHEN i % 100 = 1 THEN ' zebra' ELSE '' END
             || '", "state": "trained", "visibility": "private", "languages": ["en"]}}'
           ELSE
             '{"task_id": "' || md5(i::text)::uuid || '", "audio_url": "https://platform.r2.'
             || 'fish.audio/task/' || md5('a' || i) || '.mp3", "note": "'
             || (ARRAY['order shipped', 'table confirmed', 'weather today', 'welcome aboard'])[1 + i % 4]
             || CASE WHEN i % 100000 = 8 THEN ' quokka' ELSE '' END
             || CASE WHEN i % 100 = 2 THEN ' zebra' ELSE '' END || '"}'
           END, 'UTF8'),
           200, md5(i::text)::uuid::text, 'tsk_' || lpad(to_hex(i), 26, '0'), 'applied'
    FROM generate_series(:start, :end - 1) AS i
    """
)


async def fill(url: str, rows: int, backlog: int) -> None:
    """`rows` deliveries, all but the newest `backlog` of them indexed (as the background
    indexer would have them after a burst of `backlog` callbacks)."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX IF EXISTS ix_delivery_search_body_trgm"))
    step = 100_000
    for start in range(0, rows, step):
        async with engine.begin() as conn:  # the trigger notes each in the backlog
            await conn.execute(_FILL, {"start": start, "end": min(start + step, rows)})
        print(f"  {min(start + step, rows):>9,} rows", flush=True)
    async with engine.begin() as conn:
        # What the indexer does, at once, before the index exists (faster to build after).
        await conn.execute(
            text(
                "INSERT INTO delivery_search (id, body_text) "
                "SELECT id, encode(body, 'escape') FROM deliveries WHERE id IN "
                "(SELECT id FROM delivery_search_backlog ORDER BY id LIMIT :n)"
            ),
            {"n": max(rows - backlog, 0)},
        )
        await conn.execute(
            text(
                "DELETE FROM delivery_search_backlog b "
                "WHERE EXISTS (SELECT 1 FROM delivery_search s WHERE s.id = b.id)"
            )
        )
    async with engine.connect() as conn:
        await conn.execute(text("SET maintenance_work_mem = '512MB'"))
        started = time.monotonic()
        await conn.execute(
            text(
                "CREATE INDEX ix_delivery_search_body_trgm ON delivery_search "
                "USING gin (body_text gin_trgm_ops)"
            )
        )
        await conn.execute(text("ANALYZE deliveries, delivery_search, delivery_search_backlog"))
        await conn.commit()
        print(f"  trigram index built in {time.monotonic() - started:.0f} s")
        size = await conn.scalar(
            text("SELECT pg_size_pretty(pg_total_relation_size('delivery_search'))")
        )
        table = await conn.scalar(
            text("SELECT pg_size_pretty(pg_total_relation_size('deliveries'))")
        )
        print(f"  search table with its index {size}; deliveries with indexes {table}")
    await engine.dispose()


async def drain(url: str) -> None:
    """The background indexer's own pace, at full speed: the backlog into the index."""
    engine = create_async_engine(url, pool_size=1)
    indexer = Indexer(async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False))
    started = time.monotonic()
    taken = await indexer.drain()
    elapsed = time.monotonic() - started
    print(f"  indexer: {taken:,} rows in {elapsed:.1f} s ({taken / elapsed:,.0f} rows/s)")
    await engine.dispose()


async def measure(
    url: str, terms: dict[str, str], runs: int
) -> list[tuple[str, str, int, float, float]]:
    engine = create_async_engine(url, pool_size=1)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    results = []
    for label, term in terms.items():
        timings = []
        found = 0
        for _ in range(runs):
            async with sessions() as session:
                started = time.perf_counter()
                page = await service.deliveries(session, service.Filters(q=term))
                timings.append((time.perf_counter() - started) * 1000)
                found = len(page.rows)
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        results.append((label, term, found, statistics.median(timings), p95))
    async with engine.connect() as conn:
        query = service.deliveries.__doc__  # noqa: F841 (kept simple: plans below use SQL)
        for label, term in terms.items():
            compiled = (
                service._delivery_columns()
                .where(service.Delivery.id.in_(service.matching_ids(term)))
                .order_by(service.Delivery.id.concat("").desc())
                .limit(51)
                .compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
            )
            plan = await conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS OFF) {compiled}"))
            lines = [row[0] for row in plan]
            print(f"  plan for {label}: {lines[0].strip()[:110]}")
            print(f"    {' | '.join(line.strip() for line in lines[1:4])[:200]}")
    await engine.dispose()
    return results


def report(rows: list[tuple[str, str, int, float, float]], state: str) -> None:
    print(
        f"\n{'search (' + state + ')':<34} {'term':<40} {'found':>5} {'median ms':>10} {'p95 ms':>8}"
    )
    for label, term, found, median, p95 in rows:
        print(f"{label:<34} {term[:40]:<40} {found:>5} {median:>10.1f} {p95:>8.1f}")


async def _scalar(url: str, sql: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        value = int(await conn.scalar(text(sql)) or 0)
    await engine.dispose()
    return value


async def main(args: argparse.Namespace) -> None:
    server = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or os.environ["FISHHOOK_TEST_DATABASE_URL"]
    )
    name = args.reuse or f"fishhook_search_{secrets.token_hex(4)}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    if not args.reuse:
        await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        if not args.reuse:
            await asyncio.to_thread(upgrade, url)
            print(f"filling {args.rows:,} deliveries into {name}")
            await fill(url, args.rows, args.backlog)
        terms = {
            "rare word (1 in 100k)": "quokka",
            "rare short word (1 in 100k)": "okapi",
            "uncommon word (1 in 100)": "zebra",
            "common word (every voice body)": "Storyteller",
            "word in no body": "platypus",
            "AceData task_id": "c4ca4238-a0b9-2382-0dcc-509a6f75849b",
            "fishhook task id": "tsk_" + f"{12345:x}".rjust(26, "0"),
            "part of an audio file name": hashlib.md5(b"a5").hexdigest()[:16],
        }
        backlogged = await _scalar(url, "SELECT count(*) FROM delivery_search_backlog")
        report(await measure(url, terms, args.runs), f"{backlogged:,} not indexed yet")
        if backlogged:
            await drain(url)
            report(await measure(url, terms, args.runs), "all indexed")
    finally:
        if not (args.keep or args.reuse):
            await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--backlog", type=int, default=0, help="newest deliveries left for the indexer"
    )
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", help="search this database (kept by --keep) without filling it")
    asyncio.run(main(parser.parse_args()))
