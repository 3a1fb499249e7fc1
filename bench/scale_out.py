"""`python -m bench.scale_out`: 1, 2 and 3 `fishhook serve` processes behind HAProxy, one load.

For each size: a fresh set of processes (FISHHOOK_WORKERS each) on one database, HAProxy
(Debian's `haproxy`) in front as in deploy/haproxy.cfg, and the AceData simulator with every
callback lost. Through the proxy: N submits with a `callback_url` (a local webhook receiver),
then their callbacks, closed loop at concurrency C, except `--lost` of them, which only
reconciliation can finish. Then it waits until every task succeeded and every relay was
delivered, and counts what must never happen twice: a webhook relayed twice, a task
reconciled twice. Prints a table (and writes it to --report).
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import asyncpg_url
from bench import servers
from bench.loadgen import build_request, closed_loop
from bench.run import callback_body, drop_database, prepare_database
from tests.support.receiver import Receiver, serve

ROOT = Path(__file__).resolve().parents[1]
JSON = {"Content-Type": "application/json"}
SECRET = "bench-scale-callback-secret-0123456789"
RELAY_SECRET = "whsec_" + "c2NhbGUtYmVuY2gtcmVsYXktc2VjcmV0LTAxMjM0NTY3"

HAPROXY = """
global
    maxconn 4096
defaults
    mode http
    option redispatch
    retries 3
    retry-on conn-failure
    http-reuse safe
    timeout connect 3s
    timeout client 75s
    timeout server 75s
    timeout queue 10s
    timeout check 5s
frontend http
    bind 127.0.0.1:{port}
    default_backend fishhook
backend fishhook
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 2s fall 3 rise 1
{servers}
"""


def start_service(
    port: int, db_url: str, sim_url: str, public_url: str, args: argparse.Namespace
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FISHHOOK_DATABASE_URL": db_url,
        "FISHHOOK_ACEDATA_BASE_URL": sim_url,
        "FISHHOOK_ACEDATA_TOKEN": servers.SIM_TOKEN,
        "FISHHOOK_PUBLIC_URL": public_url,
        "FISHHOOK_CALLBACK_SECRET": SECRET,
        "FISHHOOK_RELAY_SECRET": RELAY_SECRET,
        "FISHHOOK_RELAY_ALLOW_PRIVATE": "true",
        "FISHHOOK_RECONCILE_AFTER": str(args.reconcile_after),
        "FISHHOOK_RECONCILE_INTERVAL": "2",
        "FISHHOOK_WORKERS": str(args.workers),
        "FISHHOOK_LOG_LEVEL": "warning",
        "FISHHOOK_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def start_proxy(port: int, backends: list[int], workdir: Path) -> subprocess.Popen[bytes]:
    lines = "\n".join(f"    server s{i} 127.0.0.1:{p}" for i, p in enumerate(backends))
    config = workdir / "haproxy.cfg"
    config.write_text(HAPROXY.format(port=port, servers=lines))
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise SystemExit("haproxy is not installed: apt-get install haproxy")
    return subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=subprocess.DEVNULL)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def wait_ready(url: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise SystemExit(f"{url} was not ready within {timeout} s")


async def submit_all(proxy_url: str, webhook: str, size: int, count: int) -> int:
    """Every submit through the proxy, retried (same Idempotency-Key) while it answers 5xx,
    so each size gets the same load; how many were accepted."""
    gate = asyncio.Semaphore(16)

    async def one(client: httpx.AsyncClient, n: int) -> bool:
        body = {"text": f"scale {size}/{n}", "callback_url": webhook}
        headers = {"Idempotency-Key": f"scale-{size}-{n}-{os.getpid()}"}
        async with gate:
            for attempt in range(8):
                try:
                    answer = await client.post("/v1/speech", json=body, headers=headers)
                    if answer.status_code == 202:
                        return True
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5 * (attempt + 1))
        return False

    async with httpx.AsyncClient(base_url=proxy_url, timeout=60) as client:
        return sum(await asyncio.gather(*(one(client, n) for n in range(count))))


async def settle(db_url: str, refs: list[str], timeout: float) -> dict[str, int]:
    """Waits until every task succeeded and every relay left; what the database then holds."""
    engine = create_async_engine(db_url)
    query = text(
        """
        SELECT
          (SELECT count(*) FROM tasks WHERE id = ANY(:refs) AND status = 'succeeded') AS succeeded,
          (SELECT count(*) FROM relay_messages WHERE task_ref = ANY(:refs) AND status = 'delivered') AS relayed,
          (SELECT count(*) FROM deliveries WHERE task_ref = ANY(:refs) AND source = 'reconcile') AS reconciled,
          (SELECT count(*) FROM (SELECT task_ref FROM deliveries WHERE task_ref = ANY(:refs)
              AND source = 'reconcile' GROUP BY task_ref HAVING count(*) > 1) AS t) AS reconciled_twice
        """
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with engine.connect() as conn:
                row = (await conn.execute(query, {"refs": refs})).one()._asdict()
            if row["succeeded"] == len(refs) == row["relayed"] or time.monotonic() > deadline:
                return {k: int(v) for k, v in row.items()}
            await asyncio.sleep(1)
    finally:
        await engine.dispose()


async def one_size(
    processes: int, db_url: str, sim_url: str, receiver: Receiver, args: argparse.Namespace
) -> dict[str, Any]:
    proxy_port, ports = servers.free_port(), [servers.free_port() for _ in range(processes)]
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    receiver.received.clear()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as workdir:
        for port in ports:
            proc = start_service(port, db_url, sim_url, proxy_url, args)
            stack.callback(stop, proc)
        for port in ports:
            await wait_ready(f"http://127.0.0.1:{port}/readyz")
        stack.callback(stop, start_proxy(proxy_port, ports, Path(workdir)))
        await wait_ready(f"{proxy_url}/readyz")
        async with httpx.AsyncClient(base_url=sim_url, timeout=60) as sim:
            await sim.post("/_sim/reset")
            await sim.post("/_sim/rules", json={"endpoint": "*", "callback": {"mode": "lost"}})
            submitted = await submit_all(proxy_url, receiver.url, processes, args.tasks)
            jobs = (await sim.get("/_sim/jobs")).json()["items"]
            requests = []
            for n, job in enumerate(jobs[args.lost :]):
                url = job["request"]["callback_url"]
                path = url[url.index("/callbacks") :]
                requests.append(
                    build_request(
                        "POST", proxy_url + path, callback_body("speech", job["id"], n), JSON
                    )
                )
            print(
                f"{processes} process(es): {len(jobs)} tasks accepted, sending {len(requests)} callbacks ...",
                flush=True,
            )
            outcome = await closed_loop(proxy_url, requests, args.concurrency)
            refs = [job["request"]["callback_url"].split("task=")[1].split("&")[0] for job in jobs]
            state = await settle(db_url, refs, timeout=args.reconcile_after + 120)
            lookups = sorted(
                r["time"]
                for r in (await sim.get("/_sim/requests")).json()["items"]
                if r["path"] == "/fish/tasks"
            )
    relays = Counter(r.headers.get("webhook-id") for r in receiver.received)
    per_second = Counter(int(t) for t in lookups)
    return {
        "processes": processes,
        "workers": processes * args.workers,
        "submits": f"{submitted}/{args.tasks}",
        "callbacks": outcome.count,
        "rps": round(outcome.count / outcome.elapsed) if outcome.elapsed else 0,
        "p50_ms": round(outcome.percentile(50) * 1000, 1),
        "p99_ms": round(outcome.percentile(99) * 1000, 1),
        "errors": outcome.errors + outcome.non_2xx,
        "succeeded": state["succeeded"],
        "reconciled": state["reconciled"],
        "reconciled_twice": state["reconciled_twice"],
        "relayed": len(relays),
        "relayed_twice": sum(1 for n in relays.values() if n > 1),
        "fish_tasks_max_per_s": max(per_second.values(), default=0),
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(row[k]) for k in head) + " |" for row in rows]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> int:
    admin_url = (
        asyncpg_url(args.database_url) if args.database_url else servers.embedded_admin_url()
    )
    db_url = await prepare_database(admin_url)
    rows = []
    try:
        with servers.simulator() as sim_url:
            async with serve(Receiver()) as receiver:
                for processes in args.processes:
                    rows.append(await one_size(processes, db_url, sim_url, receiver, args))
                    print(table(rows[-1:]), flush=True)
    finally:
        await drop_database(admin_url, db_url)
    result = table(rows)
    print(result)
    Path(args.report).write_text(
        f"# Scale-out: `python -m bench.scale_out {' '.join(sys.argv[1:])}`\n\n{result}\n"
    )
    bad = [
        r
        for r in rows
        if r["reconciled_twice"] or r["relayed_twice"] or r["succeeded"] != args.tasks
    ]
    return 1 if bad else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--processes", type=lambda s: [int(n) for n in s.split(",")], default=[1, 2, 3]
    )
    parser.add_argument("--workers", type=int, default=1, help="FISHHOOK_WORKERS per process")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--lost", type=int, default=20, help="callbacks never sent: reconciled")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--reconcile-after", type=float, default=30.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--report", default=str(ROOT / "bench" / "SCALE.md"))
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
