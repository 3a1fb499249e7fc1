"""`make bench`: every hot path of fishhook beside a reference built for it, on one machine.

1. A fresh database (BENCH_DATABASE_URL, an admin URL to a server; else an embedded one).
2. The AceData simulator (callbacks switched off) and `fishhook serve` as in production.
3. Submits, to fishhook and to the submit reference (insert, POST to the simulator with one
   shared httpx client, update, 202) in interleaved rounds. The callback phases need more
   tasks than that: the rest are written straight into the database.
4. Their callbacks, real fixture-shaped bodies to the real per-task URLs, to fishhook and to
   the two callback references (raw asyncpg upsert; SQLAlchemy ORM), all three running side
   by side: closed loop at a few concurrencies, in interleaved rounds (each round sends every
   receiver the same callbacks, in a rotating order), so that drift on a shared machine hits
   all three alike; then open loop at a fixed rate.
5. GET /v1/tasks/{id} at 32 connections, fishhook and the read reference (one asyncpg SELECT
   by either id, as JSON) in interleaved rounds; requests and CPU per fishhook worker.
6. Every 2xx-answered callback checked through the API: `lost` must be 0.
Throughput is the median of the rounds. Prints a table per path with its reference and
target, a final `RESULT ...` line, and writes bench/REPORT.md.
"""

import argparse
import asyncio
import gc
import json
import os
import platform
import secrets
import signal
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.callbacks import credentials
from app.config import asyncpg_url
from app.migrate import upgrade
from bench import paths, scale, servers
from bench.loadgen import Outcome, build_request, closed_loop, open_loop
from tests.support.database import run_admin
from tests.support.rows import submitted_tasks

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "acedata"
JSON = {"Content-Type": "application/json"}


@dataclass
class Phase:
    """One receiver under one load, over one or more rounds."""

    receiver: str
    name: str
    outcomes: list[Outcome]
    server_cpu: float  # CPU seconds of the receiver's processes, all rounds
    postgres_cpu: float
    loadgen_cpu: float
    worker_cpu: dict[int, float] = field(default_factory=dict)  # CPU seconds per worker pid

    @property
    def rps(self) -> float:
        """The median round's requests per second."""
        return statistics.median(o.count / o.elapsed for o in self.outcomes if o.elapsed)

    def row(self) -> dict[str, Any]:
        merged = Outcome(latencies=[t for o in self.outcomes for t in o.latencies])
        wall = sum(o.elapsed for o in self.outcomes) * (os.cpu_count() or 1)

        def percentile(p: float) -> float:
            return merged.percentile(p) * 1000

        def share(seconds: float) -> str:
            return f"{seconds / wall:.0%}" if wall else "-"

        def per_request(seconds: float) -> str:
            """CPU microseconds per answered request: what each receiver's work costs, where
            the shares only say how busy the machine was."""
            return f"{seconds / merged.count * 1e6:.0f}" if merged.count else "-"

        return {
            "receiver": self.receiver,
            "phase": self.name,
            "rounds": len(self.outcomes),
            "requests": merged.count,
            "rps": round(self.rps),
            "p50_ms": round(percentile(50), 1),
            "p90_ms": round(percentile(90), 1),
            "p99_ms": round(percentile(99), 1),
            "max_ms": round(max(merged.latencies) * 1000, 1),
            "errors": sum(o.errors + o.non_2xx for o in self.outcomes),
            "cpu_server": share(self.server_cpu),
            "cpu_postgres": share(self.postgres_cpu),
            "cpu_loadgen": share(self.loadgen_cpu),
            "server_us_per_req": per_request(self.server_cpu),
            "postgres_us_per_req": per_request(self.postgres_cpu),
        }


def _postgres_cpu() -> float:
    names = ("postgres", "postmaster")
    return servers.cpu_seconds(p for p in psutil.process_iter(["name"]) if p.info["name"] in names)


# The benchmark's database: each phase starts once fishhook's background work on it is done.
SETTLE_DSN: str | None = None
SETTLE_TIMEOUT = 60.0


async def settled() -> None:
    """Wait until fishhook's search indexer has emptied its backlog (app/inspector/indexer.py).
    It catches up at full speed once callbacks calm down: that must not land in the next
    phase, where it slowed whichever receiver came next (the raw receiver's open-loop p99
    read 200-320 ms after fishhook's open loop, 44-66 ms without the backlog)."""
    if SETTLE_DSN is None:
        return
    conn = await asyncpg.connect(SETTLE_DSN)
    try:
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM delivery_search_backlog)"):
                return
            await asyncio.sleep(0.2)
        print(f"search backlog not empty after {SETTLE_TIMEOUT:g} s; measuring anyway", flush=True)
    finally:
        await conn.close()


async def measure(
    receiver: str, name: str, server: servers.Server, run: Callable[[], Awaitable[Outcome]]
) -> Phase:
    await settled()
    # The load generator's own pauses must not read as the receiver's latency: a full
    # collection of this process (81 ms, with the jobs and requests it holds) landed 5 s
    # into fishhook's open loop and was its p99. Nothing is collected while a phase runs.
    gc.collect()
    server_before, pg_before, gen_before = (
        server.cpu_seconds(),
        _postgres_cpu(),
        time.process_time(),
    )
    workers_before = server.worker_cpu()
    gc.disable()
    try:
        outcome = await run()
    finally:
        gc.enable()
    return Phase(
        receiver,
        name,
        [outcome],
        server.cpu_seconds() - server_before,
        _postgres_cpu() - pg_before,
        time.process_time() - gen_before,
        {pid: cpu - workers_before.get(pid, 0.0) for pid, cpu in server.worker_cpu().items()},
    )


def closed(server: servers.Server, requests: list[bytes], concurrency: int) -> Awaitable[Outcome]:
    """A closed loop against `server` that also records which worker served each connection."""
    return closed_loop(server.url, requests, concurrency, server.owners)


def merge(phases: list[Phase]) -> Phase:
    """The rounds of one receiver under one load, as one phase."""
    first = phases[0]
    return Phase(
        first.receiver,
        first.name,
        [o for p in phases for o in p.outcomes],
        sum(p.server_cpu for p in phases),
        sum(p.postgres_cpu for p in phases),
        sum(p.loadgen_cpu for p in phases),
        {
            pid: sum(p.worker_cpu.get(pid, 0.0) for p in phases)
            for pid in {pid for p in phases for pid in p.worker_cpu}
        },
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


def submit_requests(url: str, first: int, count: int) -> list[bytes]:
    """Half speech, half voice submits, numbered from `first`."""
    requests = []
    for n in range(first, first + count):
        if n % 2:
            body: dict[str, str] = {"text": f"Sentence number {n}.", "format": "mp3"}
            path = "/v1/speech"
        else:
            body = {"voice_url": f"https://cdn.example.com/{n}.mp3", "title": f"voice {n}"}
            path = "/v1/voices"
        requests.append(build_request("POST", url + path, json.dumps(body).encode(), JSON))
    return requests


async def interleaved(
    servers_: dict[str, servers.Server],
    name: str,
    rounds: int,
    requests: Callable[[str, servers.Server, int], list[bytes]],
    concurrency: int = 32,
) -> list[Phase]:
    """`rounds` closed-loop rounds against each server in a rotating order; each server's
    rounds merged into one phase. `requests(receiver, server, round)` builds a round."""
    found: dict[str, list[Phase]] = {}
    names = list(servers_)
    for step in range(rounds):
        for receiver in names[step % len(names) :] + names[: step % len(names)]:
            server = servers_[receiver]
            batch = requests(receiver, server, step)
            phase = await measure(
                receiver, name, server, lambda s=server, b=batch: closed(s, b, concurrency)
            )
            found.setdefault(receiver, []).append(phase)
    return [merge(group) for group in found.values()]


async def drive_submits(
    hook: servers.Server, reference: servers.Server, rounds: int, per_round: int
) -> list[Phase]:
    """`per_round` submits to fishhook and as many to the submit reference, interleaved."""

    def requests(_: str, server: servers.Server, step: int) -> list[bytes]:
        return submit_requests(server.url, step * per_round, per_round)

    pair = {"fishhook": hook, "submit reference": reference}
    return await interleaved(pair, "submit c=32", rounds, requests)


async def direct_tasks(db_url: str, public_url: str, count: int) -> list[dict[str, Any]]:
    """`count` submitted tasks written straight into the database, with their callback URLs:
    the callback phases need more tasks than the submit phase is worth waiting for."""
    tasks = await submitted_tasks(db_url, count)
    secret = servers.CALLBACK_SECRET.encode()
    jobs = []
    for n, (ref, task_id) in enumerate(tasks):
        url = credentials.callback_url(public_url, secret, ref)
        jobs.append(
            {
                "task_id": task_id,
                "callback_url": url[url.index("/callbacks") :],
                "body": callback_body("voice" if n % 2 else "speech", task_id, n),
            }
        )
    return jobs


async def succeeded_ids(url: str) -> set[str]:
    """Every succeeded task, read back through the API page by page."""
    found: set[str] = set()
    cursor = None
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while True:
            params: dict[str, Any] = {"status": "succeeded", "limit": 100}
            if cursor:
                params["cursor"] = cursor
            answer = await client.get("/v1/tasks", params=params)
            if answer.status_code != 200:
                raise RuntimeError(f"GET /v1/tasks: {answer.status_code} {answer.text[:500]}")
            page = answer.json()
            found.update(item["task_id"] for item in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return found


async def prepare_database(admin_url: str, search_index: bool = True) -> str:
    name = f"fishhook_bench_{secrets.token_hex(4)}"
    await run_admin(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for statement in servers.REFERENCE_TABLES:
            await conn.execute(text(statement))
        if not search_index:
            # For an A/B of what the body search costs intake: nothing is noted for the
            # indexer (app/inspector/indexer.py), which then has nothing to do.
            await conn.execute(text("DROP TRIGGER deliveries_search_backlog ON deliveries"))
    await engine.dispose()
    return url


async def drop_database(admin_url: str, url: str) -> None:
    await run_admin(admin_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


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


RECEIVERS = ("fishhook", "raw asyncpg", "SQLAlchemy ORM")


def load(phase: Phase) -> int:
    """The concurrency of a closed-loop phase ("closed c=64"); 0 for any other."""
    return int(phase.name.split("=")[1]) if phase.name.startswith("closed") else 0


async def drive_callbacks(
    receivers: dict[str, servers.Server], jobs: list[dict[str, Any]], plan: "Plan"
) -> tuple[list[Phase], set[str]]:
    """Closed-loop rounds, then the open loop, against every receiver; returns the phases and
    the task_ids fishhook acknowledged. Each (round, concurrency) step sends every receiver
    the same callbacks (each stores them in its own tables), in a rotating order."""
    rounds: dict[tuple[str, str], list[Phase]] = {}
    acknowledged: set[str] = set()
    cursor = 0
    step = 0
    for _ in range(plan.rounds):
        for concurrency in plan.concurrencies:
            group = jobs[cursor : cursor + plan.per_concurrency]
            cursor += len(group)
            names = list(receivers)
            names = names[step % len(names) :] + names[: step % len(names)]
            step += 1
            for receiver in names:
                server = receivers[receiver]
                requests = scale.callback_requests(receiver, server, group)
                name = f"closed c={concurrency}"
                phase = await measure(
                    receiver,
                    name,
                    server,
                    lambda s=server, r=requests, c=concurrency: closed(s, r, c),
                )
                rounds.setdefault((receiver, name), []).append(phase)
                if receiver == "fishhook":
                    acknowledged.update(group[i]["task_id"] for i in phase.outcomes[0].acknowledged)
    phases = [merge(group) for group in rounds.values()]
    group = jobs[cursor : cursor + plan.open_count]
    for receiver, server in receivers.items():
        requests = scale.callback_requests(receiver, server, group)
        phase = await measure(
            receiver,
            f"open {plan.rate}/s",
            server,
            lambda s=server, r=requests: open_loop(s.url, r, plan.rate),
        )
        if receiver == "fishhook":
            acknowledged.update(group[i]["task_id"] for i in phase.outcomes[0].acknowledged)
        phases.append(phase)
    # Grouped by receiver for the table: closed loop by concurrency, then the open loop.
    phases.sort(key=lambda p: (RECEIVERS.index(p.receiver), p.name.startswith("open"), load(p)))
    return phases, acknowledged


@dataclass
class Plan:
    tasks: int
    concurrencies: list[int]
    rounds: int
    per_concurrency: int
    rate: int
    seconds: int

    @property
    def open_count(self) -> int:
        return self.rate * self.seconds

    @property
    def needed(self) -> int:
        return self.rounds * len(self.concurrencies) * self.per_concurrency + self.open_count


async def main(args: argparse.Namespace) -> int:
    # SIGTERM stops the run like Ctrl-C: every server started is stopped, the database dropped.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    plan = Plan(
        args.tasks, args.concurrency, args.rounds, args.per_concurrency, args.rate, args.seconds
    )
    if args.preload:
        plan.tasks = max(plan.tasks, plan.needed + 2 * args.scale_count)
    plan.tasks = max(plan.tasks, plan.needed)
    if args.database_url:
        admin_url = asyncpg_url(args.database_url)
    else:
        admin_url = servers.embedded_admin_url()
    db_url = await prepare_database(admin_url, search_index=not args.no_search_index)
    print(f"database: {make_url(db_url).render_as_string(hide_password=True)}", flush=True)
    try:
        return await run(plan, db_url, args)
    finally:
        await drop_database(admin_url, db_url)


async def run(plan: Plan, db_url: str, args: argparse.Namespace) -> int:
    global SETTLE_DSN  # one benchmark per process
    SETTLE_DSN = asyncpg_url(db_url, dsn=True)
    phases: list[Phase] = []
    with ExitStack() as stack:
        sim_url = stack.enter_context(servers.simulator())
        hook = stack.enter_context(servers.fishhook(db_url, sim_url, args.workers))
        acedata = {"BENCH_ACEDATA_URL": sim_url, "BENCH_ACEDATA_TOKEN": servers.SIM_TOKEN}
        async with httpx.AsyncClient(base_url=sim_url, timeout=60) as sim:
            await sim.post("/_sim/rules", json={"endpoint": "*", "callback": {"mode": "never"}})
            print(f"submitting {args.submits} tasks x {plan.rounds} rounds ...", flush=True)
            # Each reference runs only for its phase: PostgreSQL's connections are counted.
            with servers.reference("bench.ref_submit", db_url, acedata) as submit_ref:
                phases += await drive_submits(hook, submit_ref, plan.rounds, args.submits)
                rss = prefixed("submit reference", submit_ref.peak_rss())
            records = (await sim.get("/_sim/jobs")).json()["items"]
        jobs = []
        for record in records:
            url = record["request"]["callback_url"]
            if "/callbacks" not in url:
                continue  # the submit reference's
            kind = "voice" if "voice_url" in record["request"] else "speech"
            jobs.append(
                {
                    "task_id": record["id"],
                    "callback_url": url[url.index("/callbacks") :],
                    "body": callback_body(kind, record["id"], len(jobs)),
                }
            )
        if len(jobs) < plan.tasks:
            jobs += await direct_tasks(db_url, hook.url, plan.tasks - len(jobs))
        await load_reference_tasks(db_url, [job["task_id"] for job in jobs])
        receivers = {
            "fishhook": hook,
            "raw asyncpg": stack.enter_context(servers.reference("bench.ref_raw", db_url)),
            "SQLAlchemy ORM": stack.enter_context(servers.reference("bench.ref_orm", db_url)),
        }
        print(f"{len(jobs)} tasks accepted; sending callbacks ...", flush=True)
        callback_phases, acknowledged = await drive_callbacks(receivers, jobs, plan)
        phases += callback_phases
        ids = [job["task_id"] for job in jobs[: args.reads]]
        print(f"reading {len(ids)} tasks, {plan.rounds} rounds ...", flush=True)
        with servers.reference("bench.ref_read", db_url) as read_ref:
            phases += await interleaved(
                {"fishhook": hook, "read reference": read_ref},
                "GET task c=32",
                plan.rounds,
                lambda _, s, __: [build_request("GET", f"{s.url}/v1/tasks/{i}") for i in ids],
            )
            rss |= prefixed("read reference", read_ref.peak_rss())
        applied = await succeeded_ids(hook.url)
        lost = len(acknowledged - applied)
        extra = jobs[plan.needed :]
        scale_lines: list[str] = []
        if args.preload:
            rows_phases, rows_lost, line = await rows_check(receivers, extra, db_url, args)
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
        for receiver, server in receivers.items():
            rss |= prefixed(receiver, server.peak_rss())
    return report(phases, plan, acknowledged, lost, rss, args, scale_lines)


def prefixed(receiver: str, rss: dict[str, int]) -> dict[str, int]:
    return {f"{receiver} {k}": v for k, v in rss.items()}


async def rows_check(
    receivers: dict[str, servers.Server],
    jobs: list[dict[str, Any]],
    db_url: str,
    args: argparse.Namespace,
) -> tuple[list[Phase], int, str]:
    """Closed loop c=64 on the tables as they are, then again after preloading rows into
    fishhook's tables. The raw receiver runs right after it each time, on tables that do
    not grow: how much it moved shows how much the machine itself drifted meanwhile."""
    half = len(jobs) // 2
    hook = receivers["fishhook"]
    raw = receivers["raw asyncpg"]
    out = []
    lost = 0
    for label, group in (("before preload", jobs[:half]), ("after preload", jobs[half:])):
        if label == "after preload":
            print(f"preloading {args.preload} tasks and deliveries ...", flush=True)
            took = await scale.preload(db_url, args.preload)
            print(f"preloaded in {took:.0f} s", flush=True)
        for receiver, server in (("fishhook", hook), ("raw asyncpg", raw)):
            requests = scale.callback_requests(receiver, server, group)
            phase = await measure(
                receiver,
                f"c=64 {label}",
                server,
                lambda s=server, r=requests: closed_loop(s.url, r, 64),
            )
            if receiver == "fishhook":
                acknowledged = [group[i]["task_id"] for i in phase.outcomes[0].acknowledged]
                lost += len(acknowledged) - await scale.applied_count(db_url, acknowledged)
            out.append(phase)
    hook_before, raw_before, hook_after, raw_after = (p.rps for p in out)
    line = (
        f"with {args.preload} rows already in tasks and deliveries: {hook_after:.0f}/s "
        f"against {hook_before:.0f}/s before ({hook_after / hook_before - 1:+.0%}); "
        f"the raw receiver at the same moments, on tables that did not grow: "
        f"{raw_after:.0f}/s against {raw_before:.0f}/s ({raw_after / raw_before - 1:+.0%})"
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

    closed = {(p.receiver, p.name): p.rps for p in phases if p.name.startswith("closed")}
    loads = [p.name for p in phases if p.receiver == "fishhook" and p.name.startswith("closed")]
    ratios = [
        "| load | fishhook/s | raw asyncpg/s | ORM/s | vs raw | vs ORM |",
        "|---|---|---|---|---|---|",
    ]
    for name in loads:
        hook_, raw_, orm_ = (closed[(r, name)] for r in RECEIVERS)
        ratios.append(
            f"| {name} | {hook_:.0f} | {raw_:.0f} | {orm_:.0f} | {hook_ / raw_:.2f} | {hook_ / orm_:.2f} |"
        )

    def best_rps(receiver: str) -> float:
        return max(rps for (r, _), rps in closed.items() if r == receiver)

    hook, raw, orm = (best_rps(r) for r in RECEIVERS)
    open_row = next(
        r for r in rows if r["receiver"] == "fishhook" and r["phase"].startswith("open")
    )
    path_lines, path_ratios, met = paths.verdicts(phases)
    worker_lines, worst = paths.worker_shares(phases)
    result = (
        f"RESULT callbacks_rps={hook:.0f} ratio_raw={hook / raw:.2f} ratio_orm={hook / orm:.2f} "
        f"p99_ms_at_{plan.rate}rps={open_row['p99_ms']} errors_at_{plan.rate}rps={open_row['errors']} "
        f"acknowledged={len(acknowledged)} lost={lost} "
        + paths.result_fields(path_ratios, worst, met)
    )
    machine = f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, {platform.platform()}"
    memory = "\n".join(f"- {k}: {v / 2**20:.0f} MiB" for k, v in sorted(rss.items()))
    markdown = "\n".join(
        [
            f"# fishhook benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {machine}. Load generator, receivers and PostgreSQL share it.",
            f"Tasks: {plan.tasks}; closed loop: {plan.rounds} interleaved rounds of "
            f"{plan.per_concurrency} callbacks per concurrency and receiver (rps is the median "
            f"round); open loop {plan.rate}/s for {plan.seconds} s. CPU shares are of the whole "
            "machine; the us_per_req columns are CPU microseconds per answered request.",
            "",
            *table,
            "",
            "Closed-loop throughput, median of the rounds, and fishhook's ratio to each reference:",
            "",
            *ratios,
            "",
            "Every path beside its reference (throughput: median round; p99 over all rounds):",
            "",
            *path_lines,
            "",
            "fishhook's workers: requests and CPU per worker (connections per round):",
            "",
            *worker_lines,
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
    print("\n".join(ratios))
    print("\n".join(path_lines))
    print("\n".join(worker_lines))
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
    parser.add_argument(
        "--tasks", type=int, default=0, help="tasks in all (default: what the phases need)"
    )
    parser.add_argument(
        "--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[16, 64]
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved closed-loop rounds")
    parser.add_argument("--per-concurrency", type=int, default=1_600, help="callbacks per round")
    parser.add_argument("--rate", type=int, default=1_000, help="open-loop callbacks per second")
    parser.add_argument("--seconds", type=int, default=10, help="open-loop duration")
    parser.add_argument(
        "--reads", type=int, default=3_000, help="GET /v1/tasks/{id} requests per round"
    )
    parser.add_argument(
        "--submits", type=int, default=1_000, help="submits per round, to each server"
    )
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
    parser.add_argument(
        "--no-search-index",
        action="store_true",
        help="without the body search's backlog trigger: the A/B of what search costs intake",
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
