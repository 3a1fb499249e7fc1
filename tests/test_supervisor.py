"""`fishhook serve`'s supervisor, run for real: slow starts are waited for, a worker that
hangs or dies is replaced, SIGTERM drains every worker."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pid_from(port: int) -> int | None:
    """The pid of the worker that answers one fresh connection."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
    except OSError:
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(body) if head.startswith(b"HTTP/1.1 200") else None


def _answering(port: int) -> set[int]:
    """The workers answering, over 24 fresh connections (the kernel spreads them)."""
    return {pid for _ in range(24) if (pid := _pid_from(port)) is not None}


def _wait_for(condition, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout} s")


@contextmanager
def _supervised(
    port: int, workers: int, health_timeout: float, start_timeout: float, start_delay: float = 0
) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "SUPERVISED_START_DELAY": str(start_delay)}
    command = [sys.executable, "-m", "tests.supervised_app", str(port), str(workers)]
    proc = subprocess.Popen(
        [*command, str(health_timeout), str(start_timeout)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(proc.pid).children(recursive=True)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        for worker in children:
            with contextlib.suppress(psutil.Error):
                worker.kill()


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, log = proc.communicate(timeout=30)
    return proc.returncode, log


def test_a_slow_start_is_waited_for_and_sigterm_drains_every_worker():
    port = _free_port()
    # Each worker takes 7 s to start: uvicorn's own supervisor killed workers after 5 s, and
    # this one's health timeout is shorter still (it applies once a worker has started).
    with _supervised(port, workers=2, health_timeout=3, start_timeout=60, start_delay=7) as proc:
        pids = _wait_for(lambda: len(found := _answering(port)) == 2 and found, timeout=60)
        assert {w.pid for w in psutil.Process(proc.pid).children()} >= pids
        status, log = _stop(proc)
    assert status == 0
    assert log.count("worker_started") == 2, log
    assert "worker_hung" not in log
    assert not any(psutil.pid_exists(pid) for pid in pids)


def test_a_hung_worker_and_a_dead_worker_are_replaced():
    port = _free_port()
    with _supervised(port, workers=2, health_timeout=3, start_timeout=60) as proc:
        first = _wait_for(lambda: len(found := _answering(port)) == 2 and found, timeout=60)
        # A request that blocks one worker's event loop for good: it stops beating.
        hang = socket.create_connection(("127.0.0.1", port))
        hang.sendall(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(1)
        served = _answering(port)
        assert len(served) == 1  # the other worker still answers meanwhile
        (hung,) = first - served
        _wait_for(
            lambda: not psutil.pid_exists(hung) or psutil.Process(hung).status() == "zombie", 30
        )
        second = _wait_for(lambda: len(found := _answering(port)) == 2 and found, timeout=60)
        assert hung not in second and len(second - first) == 1
        hang.close()
        # A worker killed outright is started again too.
        (victim,) = second - first
        os.kill(victim, signal.SIGKILL)
        third = _wait_for(
            lambda: len(found := _answering(port)) == 2 and victim not in found and found, 60
        )
        assert len(third - second) == 1
        status, log = _stop(proc)
    assert status == 0
    assert "worker_hung index" in log and f"pid={hung}" in log
    assert "worker_died" in log and f"pid={victim}" in log
