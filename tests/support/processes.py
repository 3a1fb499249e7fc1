"""Running the service and the AceData simulator as real processes, as `make run` does."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.cli import simulator_command
from tests.support.receiver import free_port

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR_TOKEN = "e2e-simulator-token"


# Generous: workers are spawned processes that import the app, slow on a busy machine.
def wait_until_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} was not ready within {timeout} s")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def simulator(delay: float = 0.2) -> Iterator[str]:
    """The AceData simulator on a free port; yields its base URL."""
    port = free_port()
    command = [*simulator_command(port, SIMULATOR_TOKEN), "--delay", str(delay)]
    proc = subprocess.Popen(command, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/_sim/rules", proc)
        yield url
    finally:
        stop(proc)


class Service:
    """`fishhook serve` on a free port; restartable, so tests can crash and revive it."""

    def __init__(self, database_url: str, acedata_url: str, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "FISHHOOK_DATABASE_URL": database_url,
            "FISHHOOK_ACEDATA_BASE_URL": acedata_url,
            "FISHHOOK_ACEDATA_TOKEN": SIMULATOR_TOKEN,
            "FISHHOOK_PUBLIC_URL": self.url,
            "FISHHOOK_WORKERS": "1",
            "FISHHOOK_LOG_LEVEL": "warning",
            # Local state (the audio archive) in a directory of its own, not the working tree.
            "FISHHOOK_DATA_DIR": tempfile.mkdtemp(prefix="fishhook-e2e-"),
            **{f"FISHHOOK_{k.upper()}": v for k, v in settings.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Service":
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env)
        wait_until_ready(f"{self.url}/readyz", self.proc)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop(self.proc, sig)
            self.proc = None


@contextmanager
def service(database_url: str, acedata_url: str, **settings: str) -> Iterator[Service]:
    svc = Service(database_url, acedata_url, **settings).start()
    try:
        yield svc
    finally:
        svc.stop()
