"""The processes the benchmark runs: the simulator, fishhook as in production, the references."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from app.cli import simulator_command
from app.config import asyncpg_url

ROOT = Path(__file__).resolve().parents[1]
SIM_TOKEN = "bench-simulator-token"
CALLBACK_SECRET = "bench-callback-secret-0123456789"

REFERENCE_TABLES = [
    "CREATE TABLE ref_raw_callbacks "
    "(task_id text PRIMARY KEY, body jsonb NOT NULL, received_at timestamptz NOT NULL)",
    "CREATE TABLE ref_orm_tasks (id text PRIMARY KEY, task_id text UNIQUE NOT NULL, "
    "status text NOT NULL, result jsonb, finished_at timestamptz)",
    "CREATE TABLE ref_submit_tasks (id text PRIMARY KEY, task_id text UNIQUE, kind text NOT NULL, "
    "status text NOT NULL, input jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
]


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], url: str) -> None:
        self.proc = proc
        self.url = url

    def _tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def cpu_seconds(self) -> float:
        return cpu_seconds(self._tree())

    def workers(self) -> list[psutil.Process]:
        """The worker processes (spawned by the supervisor, ours or uvicorn's)."""
        found = []
        for proc in self._tree():
            try:
                if "spawn_main" in " ".join(proc.cmdline()):
                    found.append(proc)
            except psutil.Error:
                pass
        return found

    def worker_cpu(self) -> dict[int, float]:
        return {proc.pid: cpu_seconds([proc]) for proc in self.workers()}

    def owners(self) -> dict[int, int]:
        """Client port -> pid of the worker holding that connection."""
        port = int(self.url.rsplit(":", 1)[1])
        found = {}
        for proc in self.workers():
            try:
                connections = proc.net_connections(kind="tcp")
            except psutil.Error:
                continue
            for conn in connections:
                if conn.laddr and conn.raddr and conn.laddr.port == port:
                    found[conn.raddr.port] = proc.pid
        return found

    def rss(self) -> dict[str, int]:
        """Current VmRSS of each worker process."""
        return self._status_field("VmRSS:", workers_only=True)

    def peak_rss(self) -> dict[str, int]:
        """VmHWM of each process in the tree (the workers are what matters)."""
        return self._status_field("VmHWM:", workers_only=False)

    def _status_field(self, field: str, *, workers_only: bool) -> dict[str, int]:
        values = {}
        for proc in self._tree():
            try:
                is_worker = "spawn_main" in " ".join(proc.cmdline())
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except (OSError, psutil.Error):
                continue
            if workers_only and not is_worker:
                continue
            role = f"worker {proc.pid}" if is_worker else f"process {proc.pid}"
            for line in status.splitlines():
                if line.startswith(field):
                    values[role] = int(line.split()[1]) * 1024
        return values

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    """User and system CPU seconds of `processes`, skipping any that are gone."""
    total = 0.0
    for proc in processes:
        try:
            cpu = proc.cpu_times()
            total += cpu.user + cpu.system
        except psutil.Error:
            pass
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Until 8 fresh connections in a row are answered: the kernel spreads new connections
    over the workers' sockets, so a worker still starting would hold one up."""
    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                answered += 1
                if answered == 8:
                    return
                continue
        except httpx.HTTPError:
            pass
        answered = 0
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {timeout} s")


@contextmanager
def _serving(
    command: list[str], ready_path: str, port: int, env: dict[str, str]
) -> Iterator[Server]:
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    server = Server(proc, f"http://127.0.0.1:{port}")
    try:
        _wait(server.url + ready_path, proc)
        yield server
    finally:
        server.stop()


@contextmanager
def simulator() -> Iterator[str]:
    port = free_port()
    with _serving(simulator_command(port, SIM_TOKEN), "/_sim/rules", port, {}) as server:
        yield server.url


@contextmanager
def fishhook(database_url: str, simulator_url: str, workers: int | None) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    env = {
        "FISHHOOK_DATABASE_URL": database_url,
        "FISHHOOK_ACEDATA_BASE_URL": simulator_url,
        "FISHHOOK_ACEDATA_TOKEN": SIM_TOKEN,
        "FISHHOOK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "FISHHOOK_LOG_LEVEL": "warning",
        "FISHHOOK_CALLBACK_SECRET": CALLBACK_SECRET,
        # The fixtures' audio lives on AceData's CDN, which this machine may not reach; the
        # references archive nothing either. bench/archive.py measures the archive.
        "FISHHOOK_ARCHIVE_URL": "none",
    }
    with _serving(command, "/readyz", port, env) as server:
        yield server


@contextmanager
def reference(
    module: str, database_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """A reference receiver: minimal FastAPI on uvicorn, 2 workers, uvloop, httptools."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"{module}:app",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    command += [
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {"BENCH_DATABASE_URL": database_url, "BENCH_DSN": asyncpg_url(database_url, dsn=True)}
    env |= extra_env or {}
    with _serving(command, "/docs", port, env) as server:
        yield server


def embedded_admin_url() -> str:
    """An embedded PostgreSQL for machines without a server; stopped when the benchmark exits."""
    from app.embedded_db import start_embedded

    return start_embedded(Path(tempfile.mkdtemp(prefix="fishhook-bench-")))
