"""Flame graphs of a fishhook worker under each hot load: `python -m bench.profile`.

Starts the simulator and `fishhook serve` (2 workers) on a fresh database, like `make bench`,
and for each load (submits, callbacks at c=16 and c=64, GET /v1/tasks/{id} at c=32) records
every worker with py-spy (`pip install py-spy`) while the load runs. Writes an SVG flame graph
and the collapsed stacks per load and worker into --out, and prints the functions with the
most samples (self and total) so the findings can be read without a browser.
"""

import argparse
import asyncio
import collections
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from app.config import asyncpg_url
from bench import run as bench
from bench import scale, servers
from bench.loadgen import Outcome, build_request, closed_loop


def _record(pid: int, seconds: int, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "200"]
    command += ["-f", fmt, "-o", str(out)]
    # --native (C and Cython frames too) has to stop the process for each sample.
    command += ["--native"] if os.environ.get("PYSPY_NATIVE") else ["--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _package(frame: str) -> str:
    """ "f (sqlalchemy/orm/session.py:12)" -> "sqlalchemy"; fishhook's own code by module."""
    where = frame.rpartition("(")[2]
    parts = where.split("/")
    if parts[0] in ("app", "bench"):
        return "/".join(parts[:2]).split(":")[0]
    return parts[0] if len(parts) > 1 else where.split(".")[0]


def summary(collapsed: Path, top: int = 15) -> list[str]:
    """Where the busy samples went: self time by package and by frame, and the frames of
    fishhook's own code with the most samples anywhere in the stack. Idle samples (no
    Python frame) are left out."""
    own: collections.Counter[str] = collections.Counter()
    packages: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        n = int(count)
        busy += n
        own[frames[-1]] += n
        packages[_package(frames[-1])] += n
        for frame in {f for f in frames if "(app/" in f}:
            ours[frame] += n
    if not busy:
        return ["no busy samples"]
    lines = [f"{busy} busy samples; self time by package:"]
    lines += [f"  {n / busy:6.1%} {name}" for name, n in packages.most_common(top)]
    lines.append("self time by frame:")
    lines += [f"  {n / busy:6.1%} {frame}" for frame, n in own.most_common(top)]
    lines.append("fishhook's frames, total:")
    lines += [f"  {n / busy:6.1%} {frame}" for frame, n in ours.most_common(top)]
    return lines


async def profiled(
    label: str,
    hook: servers.Server,
    out: Path,
    seconds: int,
    load: Callable[[], Awaitable[Outcome]],
) -> None:
    recorders = []
    for worker in hook.workers():
        for fmt, suffix in (("flamegraph", "svg"), ("raw", "txt")):
            path = out / f"{label}-{worker.pid}.{suffix}"
            recorders.append((path, _record(worker.pid, seconds, path, fmt)))
    # The load lasts as long as the recording: cut short when py-spy is done.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(load(), seconds + 1)
    for _, proc in recorders:
        proc.wait()
    print(f"== {label}", flush=True)
    for path, _ in recorders:
        if path.suffix == ".txt" and path.exists():
            print(f"-- {path.name}")
            print("\n".join(summary(path)), flush=True)


async def main(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    admin = asyncpg_url(args.database_url) if args.database_url else servers.embedded_admin_url()
    db_url = await bench.prepare_database(admin)
    try:
        with ExitStack() as stack:
            sim_url = stack.enter_context(servers.simulator())
            hook = stack.enter_context(servers.fishhook(db_url, sim_url, 2))
            async with httpx.AsyncClient(base_url=sim_url, timeout=60) as sim:
                await sim.post("/_sim/rules", json={"endpoint": "*", "callback": {"mode": "never"}})
                submits = bench.submit_requests(hook.url, 0, args.tasks)
                await profiled(
                    "submit", hook, out, args.seconds, lambda: closed_loop(hook.url, submits, 32)
                )
                records = (await sim.get("/_sim/jobs")).json()["items"]
            jobs = [
                {
                    "task_id": r["id"],
                    "callback_url": r["request"]["callback_url"][
                        r["request"]["callback_url"].index("/callbacks") :
                    ],
                    "body": bench.callback_body("speech", r["id"], n),
                }
                for n, r in enumerate(records)
            ]
            half = len(jobs) // 2
            for concurrency, group, rate in ((16, jobs[:half], 1500), (64, jobs[half:], 2500)):
                # Fresh callbacks first, then duplicates of them (the same intake path).
                requests = scale.callback_requests("fishhook", hook, group)
                load = _first(scale.Cycle(requests, rate * args.seconds))
                await profiled(
                    f"callbacks-c{concurrency}",
                    hook,
                    out,
                    args.seconds,
                    lambda r=load, c=concurrency: closed_loop(hook.url, r, c),
                )
            reads = [build_request("GET", f"{hook.url}/v1/tasks/{j['task_id']}") for j in jobs]
            load = _first(scale.Cycle(reads, 1500 * args.seconds))
            await profiled(
                "get-c32", hook, out, args.seconds, lambda: closed_loop(hook.url, load, 32)
            )
    finally:
        await bench.drop_database(admin, db_url)


def _first(requests: scale.Cycle) -> list[bytes]:
    return [requests[i] for i in range(len(requests))]


def summarise(directory: Path) -> None:
    for path in sorted(directory.glob("*.txt")):
        print(f"-- {path.name}")
        print("\n".join(summary(path)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--summarise"]:
        summarise(Path(sys.argv[2]))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--out", default="/tmp/fishhook-profiles")
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
