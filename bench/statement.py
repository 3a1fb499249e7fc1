"""What the intake's batch statement costs PostgreSQL, by batch size: `python -m bench.statement`.

Runs app.callbacks.batch.apply_batch one statement after another on one connection, against
fresh submitted tasks, for batches of 1, 4 and 16 deliveries, under each plan_cache_mode;
prints microseconds per statement and per delivery, then EXPLAIN ANALYZE's planning,
trigger and execution times for a batch of 4 (on a new connection: the triggers' first calls
include compiling them). The fixed cost per statement is what small batches (callbacks at
low concurrency) pay for each delivery.

Found (2026-11-30, on two machines): about 450-580 us a statement whatever its size, then
60-80 us a delivery; `auto` settles on the generic plan after its first five custom ones, so
forcing it gains nothing, and forcing custom plans (0.5-0.6 ms of planning each) costs 350 us
a statement. About 200 us of a statement is the commit's WAL flush (391 us with
synchronous_commit off), and dropping every trigger on the path saves at most 80 us.
"""

import argparse
import asyncio
import time

import asyncpg

from app.callbacks.batch import _APPLY_BATCH, _COLUMNS, Row, apply_batch
from app.config import asyncpg_url
from bench import run as bench
from tests.support.rows import row, submitted_tasks

SIZES = (1, 4, 16)
MODES = ("auto", "force_custom_plan", "force_generic_plan")


async def _timed(conn: asyncpg.Connection, batches: list[list[Row]]) -> float:
    started = time.perf_counter()
    for batch in batches:
        await apply_batch(conn, batch)
    return time.perf_counter() - started


async def main(args: argparse.Namespace) -> None:
    admin = asyncpg_url(args.database_url)
    db_url = await bench.prepare_database(admin)
    try:
        per_mode = args.deliveries * len(SIZES)
        tasks = iter(await submitted_tasks(db_url, per_mode * len(MODES) + 4))
        for mode in MODES:
            conn = await asyncpg.connect(
                asyncpg_url(db_url, dsn=True),
                server_settings={"fishhook.archive": "off", "plan_cache_mode": mode},
            )
            for size in SIZES:
                count = args.deliveries // size
                batches = [[row(*next(tasks)) for _ in range(size)] for _ in range(count)]
                seconds = await _timed(conn, batches)
                print(
                    f"{mode:19s} batch {size:2d}: {seconds / count * 1e6:6.0f} us a statement, "
                    f"{seconds / (count * size) * 1e6:5.0f} us a delivery",
                    flush=True,
                )
            await conn.close()
        conn = await asyncpg.connect(asyncpg_url(db_url, dsn=True))
        rows = [row(*next(tasks)) for _ in range(4)]
        arrays = [[getattr(r, column) for r in rows] for column in _COLUMNS]
        plan = await conn.fetch("EXPLAIN (ANALYZE, SUMMARY) " + _APPLY_BATCH, *arrays)
        print("\n".join(r[0] for r in plan if not r[0].startswith(" ")))
        await conn.close()
    finally:
        await bench.drop_database(admin, db_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=1_600, help="per batch size and mode")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(main(parser.parse_args()))
