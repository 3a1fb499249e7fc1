"""`python -m bench.hostile`: honest callbacks with and without a hostile client, in one run.

fishhook as in production, N submitted tasks written to its database, a warm-up, then
interleaved rounds; each round sends `--per-round` honest callbacks (real fixture bodies to
the real per-task URLs, closed loop at `--concurrency`) twice: once alone ("clean") and once
while hostile clients run beside them ("hostile"), in alternating order so that drift on a
shared machine hits both alike. The hostile clients, `--hostile-clients` connections at
`--hostile-share` of the warm-up's honest rate (or `--hostile-rate` per second) in all,
send in turn:
- a callback with no credential and a task_id of 5 kB (random, so it does not compress),
- the same with a forged credential for a real task,
- a callback with a 40 kB header,
and `--slow-clients` more connections send a request head one byte every 0.5 s.
Prints the honest throughput of each round, the medians and their ratio (the issue's bar:
hostile within 20 % of clean), and a final `RESULT hostile ...` line.
"""

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.callbacks import credentials
from app.config import asyncpg_url
from bench import scale, servers
from bench.loadgen import Outcome, _Connection, build_request, closed_loop
from bench.run import callback_body, drop_database, prepare_database

JSON = {"Content-Type": "application/json"}


def hostile_requests(url: str, task_refs: list[str], count: int) -> list[bytes]:
    requests = []
    for n in range(count):
        body = b'{"task_id": "%s", "audio_url": "https://x.example/a.mp3"}' % (
            secrets.token_hex(2500).encode()
        )
        kind = n % 3
        if kind == 0:
            requests.append(build_request("POST", f"{url}/callbacks", body, JSON))
        elif kind == 1:
            forged = f"{url}/callbacks?task={task_refs[n % len(task_refs)]}&token={'A' * 32}"
            requests.append(build_request("POST", forged, body, JSON))
        else:
            headers = {**JSON, "X-Padding": "p" * 40_000}
            requests.append(build_request("POST", f"{url}/callbacks", body, headers))
    return requests


async def _hostile_client(url: str, requests: list[bytes], rate: float, tally: Outcome) -> None:
    parts = urlsplit(url)
    conn = _Connection(parts.hostname or "127.0.0.1", parts.port or 80)
    began = time.perf_counter()
    try:
        for n, raw in enumerate(requests):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                status = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                tally.errors += 1
                conn.close()
                continue
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
    finally:
        conn.close()


async def _slow_client(url: str, tally: Outcome) -> None:
    """A request head one byte every 0.5 s, reconnecting whenever the server hangs up."""
    parts = urlsplit(url)
    head = b"POST /callbacks HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 1000
    while True:
        try:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        try:
            for byte in head:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.5)
                if reader.at_eof():
                    tally.errors += 1  # the server cut it off
                    break
        except OSError:
            tally.errors += 1
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def hostile(url: str, args: argparse.Namespace, task_refs: list[str]) -> AsyncIterator[Any]:
    tally = Outcome()
    slow = Outcome()
    per_client = args.hostile_rate / args.hostile_clients
    count = int(per_client * 600)  # more than any round lasts
    tasks = [
        asyncio.create_task(
            _hostile_client(url, hostile_requests(url, task_refs, count), per_client, tally)
        )
        for _ in range(args.hostile_clients)
    ]
    tasks += [asyncio.create_task(_slow_client(url, slow)) for _ in range(args.slow_clients)]
    try:
        yield tally, slow
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


_TASKS = """
INSERT INTO tasks (id, task_id, kind, status, input)
SELECT 'tsk_h' || lpad(g::text, 25, '0'), 'hostile-bench-' || g, 'speech', 'submitted',
       '{"text": "bench"}'
FROM generate_series(1, :n) AS g
"""


async def prepare(db_url: str, count: int) -> list[dict[str, Any]]:
    """`count` submitted tasks written straight into the database (the submit path is not
    what this measures, and on a busy machine it is slow), with their real callback URLs."""
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(text(_TASKS), {"n": count})
        secret = await conn.scalar(
            text("SELECT value FROM stored_secrets WHERE name = 'callback_secret'")
        )
    await engine.dispose()
    jobs = []
    for n in range(1, count + 1):
        ref, task_id = f"tsk_h{n:025d}", f"hostile-bench-{n}"
        jobs.append(
            {
                "task_id": task_id,
                "task_ref": ref,
                "callback_url": credentials.callback_url("", secret.encode(), ref),
                "body": callback_body("speech", task_id, n),
            }
        )
    return jobs


async def run(args: argparse.Namespace, db_url: str) -> int:
    with ExitStack() as stack:
        sim_url = stack.enter_context(servers.simulator())
        hook = stack.enter_context(servers.fishhook(db_url, sim_url, args.workers))
        jobs = await prepare(db_url, (2 * args.rounds + 1) * args.per_round)
        refs = [job["task_ref"] for job in jobs]
        # The hostile rate is a share of what the service does clean, so the scenario means
        # the same on a fast machine and a busy one: a warm-up phase measures it.
        warm = await closed_loop(
            hook.url,
            scale.callback_requests("fishhook", hook, jobs[: args.per_round]),
            args.concurrency,
        )
        args.hostile_rate = args.hostile_rate or round(
            args.hostile_share * warm.count / warm.elapsed, 1
        )
        print(f"warm-up {warm.count / warm.elapsed:.0f}/s; hostile rate {args.hostile_rate}/s")
        rps: dict[str, list[float]] = {"clean": [], "hostile": []}
        p99: dict[str, list[float]] = {"clean": [], "hostile": []}
        non_2xx = {"clean": 0, "hostile": 0}
        hostile_tally, slow_tally = Outcome(), Outcome()
        cursor = args.per_round
        for round_no in range(args.rounds):
            order = ["clean", "hostile"] if round_no % 2 == 0 else ["hostile", "clean"]
            for name in order:
                group = jobs[cursor : cursor + args.per_round]
                cursor += len(group)
                requests = scale.callback_requests("fishhook", hook, group)
                if name == "clean":
                    outcome = await closed_loop(hook.url, requests, args.concurrency)
                else:
                    async with hostile(hook.url, args, refs) as (tally, slow):
                        await asyncio.sleep(1)  # the hostile clients are under way
                        outcome = await closed_loop(hook.url, requests, args.concurrency)
                    for status, n in tally.statuses.items():
                        hostile_tally.statuses[status] = hostile_tally.statuses.get(status, 0) + n
                    hostile_tally.errors += tally.errors
                    slow_tally.errors += slow.errors
                rps[name].append(outcome.count / outcome.elapsed)
                p99[name].append(outcome.percentile(99) * 1000)
                non_2xx[name] += outcome.non_2xx + outcome.errors
                print(
                    f"round {round_no + 1} {name:8} honest {rps[name][-1]:7.0f}/s "
                    f"p99 {p99[name][-1]:6.1f} ms",
                    flush=True,
                )
    clean, dirty = statistics.median(rps["clean"]), statistics.median(rps["hostile"])
    ratio = dirty / clean
    print()
    print("| honest callbacks | median rps | median p99 ms | non-2xx |")
    print("|---|---|---|---|")
    for name in ("clean", "hostile"):
        print(
            f"| {name} | {statistics.median(rps[name]):.0f} | "
            f"{statistics.median(p99[name]):.1f} | {non_2xx[name]} |"
        )
    print(
        f"hostile clients: {args.hostile_clients} at {args.hostile_rate}/s in all, answered "
        f"{dict(sorted(hostile_tally.statuses.items()))}, {hostile_tally.errors} transport "
        f"errors; slow clients: {args.slow_clients}, cut off {slow_tally.errors} times"
    )
    verdict = "within 20%" if ratio >= 0.8 else "NOT within 20%"
    print(
        f"RESULT hostile honest_clean_rps={clean:.0f} honest_hostile_rps={dirty:.0f} "
        f"ratio={ratio:.2f} ({verdict}) honest_non_2xx={non_2xx['clean'] + non_2xx['hostile']}",
        flush=True,
    )
    return 0 if non_2xx["clean"] + non_2xx["hostile"] == 0 else 1


async def main(args: argparse.Namespace) -> int:
    admin_url = (
        asyncpg_url(args.database_url) if args.database_url else servers.embedded_admin_url()
    )
    db_url = await prepare_database(admin_url)
    print(f"database: {make_url(db_url).render_as_string(hide_password=True)}", flush=True)
    try:
        return await run(args, db_url)
    finally:
        await drop_database(admin_url, db_url)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-round", type=int, default=1_500, help="honest callbacks a phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--hostile-clients", type=int, default=8)
    parser.add_argument(
        "--hostile-share",
        type=float,
        default=0.1,
        help="hostile requests/s as a share of the warm-up's honest rate",
    )
    parser.add_argument("--hostile-rate", type=float, default=0, help="requests/s, all clients")
    parser.add_argument("--slow-clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
