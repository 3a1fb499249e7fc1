"""`make bench`: callback intake of fishhook against two reference receivers, on one machine.

1. A fresh database (BENCH_DATABASE_URL, an admin URL to a server; else an embedded one).
2. The AceData simulator (callbacks switched off) and `fishhook serve` as in production.
3. N tasks submitted through the API (this measures the submit path too).
4. Their callbacks, real fixture-shaped bodies to the real per-task URLs: closed loop at a
   few concurrencies, then open loop at a fixed rate; then GET /v1/tasks/{id} under load.
5. Every 2xx-answered callback checked through the API: `lost` must be 0.
6. The same callbacks against the reference receivers (raw asyncpg upsert; SQLAlchemy ORM).
Prints a table, a final `RESULT ...` line, and writes bench/REPORT.md.
"""

import argparse
import asyncio
import json
import os
import platform
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.migrate import upgrade
from bench import scale, servers
from bench.loadgen import Outcome, build_request, closed_loop, open_loop

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "acedata"
JSON = {"Content-Type": "application/json"}


@dataclass
class Phase:
    receiver: str
    name: str
    outcome: Outcome
    server_cpu: float  # CPU seconds of the receiver's processes
    postgres_cpu: float
    loadgen_cpu: float

    def row(self) -> dict[str, Any]:
        o = self.outcome
        wall = o.elapsed * (os.cpu_count() or 1)
        return {
            "receiver": self.receiver,
            "phase": self.name,
            "requests": o.count,
            "rps": round(o.count / o.elapsed) if o.elapsed else 0,
            "p50_ms": round(o.percentile(50) * 1000, 1),
            "p90_ms": round(o.percentile(90) * 1000, 1),
            "p99_ms": round(o.percentile(99) * 1000, 1),
            "max_ms": round(max(o.latencies, default=0) * 1000, 1),
            "errors": o.errors + o.non_2xx,
            "cpu_server": f"{self.server_cpu / wall:.0%}" if wall else "-",
            "cpu_postgres": f"{self.postgres_cpu / wall:.0%}" if wall else "-",
            "cpu_loadgen": f"{self.loadgen_cpu / wall:.0%}" if wall else "-",
        }


def _postgres_cpu() -> float:
    names = ("postgres", "postmaster")
    return servers.cpu_seconds(p for p in psutil.process_iter(["name"]) if p.info["name"] in names)


async def measure(
    receiver: str, name: str, server: servers.Server, run: Callable[[], Any]
) -> Phase:
    server_before, pg_before, gen_before = (
        server.cpu_seconds(),
        _postgres_cpu(),
        time.process_time(),
    )
    outcome: Outcome = await run()
    return Phase(
        receiver,
        name,
        outcome,
        server.cpu_seconds() - server_before,
        _postgres_cpu() - pg_before,
        time.process_time() - gen_before,
    )


def callback_body(kind: str, task_id: str, n: int) -> bytes:
    if kind == "voice":
        body = json.loads((FIXTURES / "voices_callback_success.json").read_text())
        body["data"]["_id"] = f"{n:032x}"
    else:
        body = json.loads((FIXTURES / "tts_callback_success.json").read_text())
        body["trace_id"] = f"trace-{n}"
    body["task_id"] = task_id
    return json.dumps(body).encode()


async def submit_all(url: str, count: int) -> Outcome:
    requests = []
    for n in range(count):
        if n % 2:
            body = {"text": f"Sentence number {n}.", "format": "mp3"}
            requests.append(
                build_request("POST", f"{url}/v1/speech", json.dumps(body).encode(), JSON)
            )
        else:
            body = {"voice_url": f"https://cdn.example.com/{n}.mp3", "title": f"voice {n}"}
            requests.append(
                build_request("POST", f"{url}/v1/voices", json.dumps(body).encode(), JSON)
            )
    return await closed_loop(url, requests, concurrency=32)


async def succeeded_ids(url: str) -> set[str]:
    """Every succeeded task, read back through the API page by page."""
    found: set[str] = set()
    cursor = None
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while True:
            params: dict[str, Any] = {"status": "succeeded", "limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/tasks", params=params)).json()
            found.update(item["task_id"] for item in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return found


async def prepare_database(admin_url: str) -> str:
    name = f"fishhook_bench_{secrets.token_hex(4)}"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for statement in servers.REFERENCE_TABLES:
            await conn.execute(text(statement))
    await engine.dispose()
    return url


async def load_reference_tasks(url: str, task_ids: list[str]) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE ref_orm_tasks, ref_raw_callbacks"))
        await conn.execute(
            text(
                "INSERT INTO ref_orm_tasks (id, task_id, status) VALUES (:id, :task_id, 'submitted')"
            ),
            [{"id": f"ref_{i}", "task_id": t} for i, t in enumerate(task_ids)],
        )
    await engine.dispose()


def slices(items: list[Any], sizes: list[int]) -> list[list[Any]]:
    out, start = [], 0
    for size in sizes:
        out.append(items[start : start + size])
        start += size
    return out


async def drive_callbacks(
    receiver: str, server: servers.Server, jobs: list[dict[str, Any]], plan: "Plan"
) -> tuple[list[Phase], set[str]]:
    """The callback phases against one receiver; returns them and the acknowledged task_ids."""
    phases: list[Phase] = []
    acknowledged: set[str] = set()
    groups = slices(jobs, [plan.per_concurrency] * len(plan.concurrencies) + [plan.open_count])
    for concurrency, group in zip([*plan.concurrencies, None], groups, strict=True):
        requests = []
        for job in group:
            target = job["callback_url"] if receiver == "fishhook" else "/callback"
            requests.append(build_request("POST", server.url + target, job["body"], JSON))
        if concurrency is None:
            name = f"open {plan.rate}/s"
            phase = await measure(
                receiver, name, server, lambda r=requests: open_loop(server.url, r, plan.rate)
            )
        else:
            name = f"closed c={concurrency}"
            phase = await measure(
                receiver,
                name,
                server,
                lambda r=requests, c=concurrency: closed_loop(server.url, r, c),
            )
        acknowledged.update(group[i]["task_id"] for i in phase.outcome.acknowledged)
        phases.append(phase)
    return phases, acknowledged


@dataclass
class Plan:
    tasks: int
    concurrencies: list[int]
    per_concurrency: int
    rate: int
    seconds: int

    @property
    def open_count(self) -> int:
        return self.rate * self.seconds


async def main(args: argparse.Namespace) -> int:
    plan = Plan(args.tasks, args.concurrency, args.per_concurrency, args.rate, args.seconds)
    needed = plan.per_concurrency * len(plan.concurrencies) + plan.open_count
    if args.preload:
        plan.tasks = max(plan.tasks, needed + 2 * args.scale_count)
    if needed > plan.tasks:
        raise SystemExit(f"--tasks must be at least {needed} for these phases")
    admin_url = args.database_url or servers.embedded_admin_url()
    db_url = await prepare_database(admin_url)
    print(f"database: {make_url(db_url).render_as_string(hide_password=True)}", flush=True)
    phases: list[Phase] = []
    with servers.simulator() as sim_url, servers.fishhook(db_url, sim_url, args.workers) as hook:
        async with httpx.AsyncClient(base_url=sim_url, timeout=60) as sim:
            await sim.post("/_sim/rules", json={"endpoint": "*", "callback": {"mode": "never"}})
            print(f"submitting {plan.tasks} tasks ...", flush=True)
            phases.append(
                await measure(
                    "fishhook", "submit c=32", hook, lambda: submit_all(hook.url, plan.tasks)
                )
            )
            records = (await sim.get("/_sim/jobs")).json()["items"]
        jobs = []
        for n, record in enumerate(records):
            kind = "voice" if "voice_url" in record["request"] else "speech"
            url = record["request"]["callback_url"]
            jobs.append(
                {
                    "task_id": record["id"],
                    "callback_url": url[url.index("/callbacks") :],
                    "body": callback_body(kind, record["id"], n),
                }
            )
        print(f"{len(jobs)} tasks accepted; sending callbacks ...", flush=True)
        hook_phases, acknowledged = await drive_callbacks("fishhook", hook, jobs, plan)
        phases += hook_phases
        reads = [
            build_request("GET", f"{hook.url}/v1/tasks/{job['task_id']}")
            for job in jobs[: args.reads]
        ]
        phases.append(
            await measure(
                "fishhook", "GET task c=32", hook, lambda: closed_loop(hook.url, reads, 32)
            )
        )
        applied = await succeeded_ids(hook.url)
        lost = len(acknowledged - applied)
        extra = jobs[needed:]
        scale_lines: list[str] = []
        if args.preload:
            rows_phases, rows_lost, line = await rows_check(hook, extra, db_url, args)
            phases += rows_phases
            lost += rows_lost
            scale_lines.append(line)
        if args.soak:
            print(f"soak: {args.soak} callbacks ...", flush=True)
            result = await scale.soak(hook, jobs[: plan.per_concurrency], args.soak)
            lines = [
                f"soak: {result['callbacks']} callbacks at {result['rps']}/s, "
                f"{result['errors']} errors; worker RSS after 1000 -> after all:"
            ]
            for name, before in result["rss_after_1000"].items():
                after = result["rss_after_all"].get(name, 0)
                lines.append(f"  {name}: {before / 2**20:.0f} MiB -> {after / 2**20:.0f} MiB")
            lines.append(f"  largest growth {result['max_growth']:.0%}")
            scale_lines.append("\n".join(lines))
        rss = hook.peak_rss()
    for name, module in (("raw asyncpg", "bench.ref_raw"), ("SQLAlchemy ORM", "bench.ref_orm")):
        await load_reference_tasks(db_url, [job["task_id"] for job in jobs])
        with servers.reference(module, db_url) as ref:
            ref_phases, _ = await drive_callbacks(name, ref, jobs, plan)
            phases += ref_phases
            rss.update({f"{name} {k}": v for k, v in ref.peak_rss().items()})
    return report(phases, plan, acknowledged, lost, rss, args, scale_lines)


async def rows_check(
    hook: servers.Server, jobs: list[dict[str, Any]], db_url: str, args: argparse.Namespace
) -> tuple[list[Phase], int, str]:
    """Closed loop c=64 on the tables as they are, then again after preloading rows."""
    half = len(jobs) // 2
    out = []
    lost = 0
    for label, group in (("before preload", jobs[:half]), ("after preload", jobs[half:])):
        if label == "after preload":
            print(f"preloading {args.preload} tasks and deliveries ...", flush=True)
            took = await scale.preload(db_url, args.preload)
            print(f"preloaded in {took:.0f} s", flush=True)
        requests = scale.callback_requests(hook, group)
        phase = await measure(
            "fishhook", f"c=64 {label}", hook, lambda r=requests: closed_loop(hook.url, r, 64)
        )
        acknowledged = [group[i]["task_id"] for i in phase.outcome.acknowledged]
        lost += len(acknowledged) - await scale.applied_count(db_url, acknowledged)
        out.append(phase)
    before, after = (p.outcome.count / p.outcome.elapsed for p in out)
    line = (
        f"with {args.preload} rows already in tasks and deliveries: {after:.0f}/s "
        f"against {before:.0f}/s before ({after / before - 1:+.0%})"
    )
    return out, lost, line


def report(
    phases: list[Phase],
    plan: Plan,
    acknowledged: set[str],
    lost: int,
    rss: dict[str, int],
    args: argparse.Namespace,
    scale_lines: list[str],
) -> int:
    rows = [p.row() for p in phases]
    columns = list(rows[0])
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]

    def best_rps(receiver: str) -> int:
        return max(
            r["rps"] for r in rows if r["receiver"] == receiver and r["phase"].startswith("closed")
        )

    hook, raw, orm = best_rps("fishhook"), best_rps("raw asyncpg"), best_rps("SQLAlchemy ORM")
    open_row = next(
        r for r in rows if r["receiver"] == "fishhook" and r["phase"].startswith("open")
    )
    result = (
        f"RESULT callbacks_rps={hook} ratio_raw={hook / raw:.2f} ratio_orm={hook / orm:.2f} "
        f"p99_ms_at_{plan.rate}rps={open_row['p99_ms']} errors_at_{plan.rate}rps={open_row['errors']} "
        f"acknowledged={len(acknowledged)} lost={lost}"
    )
    machine = f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, {platform.platform()}"
    memory = "\n".join(f"- {k}: {v / 2**20:.0f} MiB" for k, v in sorted(rss.items()))
    markdown = "\n".join(
        [
            f"# fishhook benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {machine}. Load generator, receivers and PostgreSQL share it.",
            f"Tasks: {plan.tasks}; closed loop {plan.per_concurrency} callbacks per concurrency; "
            f"open loop {plan.rate}/s for {plan.seconds} s. CPU shares are of the whole machine.",
            "",
            *table,
            "",
            "Peak RSS per process:",
            memory,
            "",
            *[f"```\n{line}\n```" for line in scale_lines],
            "",
            f"`{result}`",
            "",
        ]
    )
    print("\n".join(table))
    print(memory)
    print("\n".join(scale_lines))
    Path(args.report).write_text(markdown)
    print(result, flush=True)
    if lost:
        print(f"LOST {lost} acknowledged callbacks", file=sys.stderr)
        return 1
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument(
        "--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[16, 64]
    )
    parser.add_argument("--per-concurrency", type=int, default=4_000)
    parser.add_argument("--rate", type=int, default=1_000, help="open-loop callbacks per second")
    parser.add_argument("--seconds", type=int, default=10, help="open-loop duration")
    parser.add_argument("--reads", type=int, default=5_000, help="GET /v1/tasks/{id} requests")
    parser.add_argument(
        "--workers", type=int, default=None, help="fishhook workers (default: its own)"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--preload", type=int, default=0, help="rows to add, then measure again")
    parser.add_argument(
        "--scale-count", type=int, default=4_000, help="callbacks per preload phase"
    )
    parser.add_argument("--soak", type=int, default=0, help="callbacks for the memory check")
    parser.add_argument("--report", default=str(ROOT / "bench" / "REPORT.md"))
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
