"""The worker processes of `fishhook serve`: one SO_REUSEPORT listening socket per worker.

uvicorn's own multi-worker mode shares one listening socket, so a burst of keep-alive
connections can all be accepted by whichever worker wakes first (all 32 of a benchmark's
connections landed on one worker in 2 of 3 runs). Here each worker binds its own socket
with SO_REUSEPORT and the kernel spreads new connections over them.

A worker's socket is bound at once but listens only when its app has started (uvicorn calls
listen() then), so until it is ready the kernel sends new connections to the others.

The supervisor starts N workers (spawned, each running uvicorn.Server), passes SIGTERM and
SIGINT on to them for a graceful drain, replaces a worker that dies, and replaces one that
hangs: every worker's event loop beats once a second into shared memory. A worker that has
not started within `start_timeout` (generous: a slow start on a busy host is not a hang, and
it costs no one anything), or whose latest beat is older than `health_timeout`, is killed
and started again.
"""

import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger("fishhook.supervisor")

BEAT_INTERVAL = 1  # seconds between two beats of a worker's event loop
CHECK_INTERVAL = 0.5
# A worker that exits during start-up is started again after a pause that doubles each
# time, up to this; after START_ATTEMPTS failed starts in a row the supervisor gives up.
MAX_RESTART_DELAY = 10.0
START_ATTEMPTS = 5
_CONTEXT = multiprocessing.get_context("spawn")
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host and port, which other workers may bind too; not listening yet
    (the server calls listen() once the app has started)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def check_port_free(host: str, port: int) -> None:
    """Fail at once, in the supervisor, when something else holds the port (SO_REUSEPORT
    alone would let a second fishhook join it silently)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _die_with(parent: int) -> None:
    """On Linux, have the kernel kill this worker when the supervisor dies (SIGKILL, a
    crash): a crashed service must not leave workers holding its port. Elsewhere the
    worker notices at its next beat and stops."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request above took effect
        os._exit(1)


def _worker_main(index: int, options: dict[str, Any], beats: Any) -> None:
    """A worker process: its own socket, one uvicorn.Server, beats from its event loop."""
    import uvicorn

    parent = os.getppid()
    _die_with(parent)

    async def beat() -> None:
        beats[index] = time.monotonic()
        if os.getppid() != parent:
            # The supervisor was killed outright: no one would ever stop this worker.
            log.error("supervisor_gone pid=%s: stopping", os.getpid())
            server.should_exit = True

    config = uvicorn.Config(**options, callback_notify=beat, timeout_notify=BEAT_INTERVAL)
    sock = reuseport_socket(config.host, config.port)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])


@dataclass
class _Slot:
    index: int
    process: BaseProcess | None = None
    started_at: float = 0.0
    ready: bool = False
    failed_starts: int = 0
    not_before: float = 0.0  # when a restart after a failed start may happen


@dataclass
class Supervisor:
    """Runs `workers` copies of a uvicorn app given by `options` (uvicorn.Config keywords,
    host and port included), each on its own SO_REUSEPORT socket."""

    options: dict[str, Any]
    workers: int
    health_timeout: float
    start_timeout: float = 300.0
    shutdown_timeout: float = 30.0
    target: Callable[[int, dict[str, Any], Any], None] = _worker_main
    _slots: list[_Slot] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    restarts: int = 0

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; returns the exit status."""
        check_port_free(self.options["host"], self.options["port"])
        self._beats = _CONTEXT.RawArray("d", self.workers)
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        self._slots = [_Slot(i) for i in range(self.workers)]
        try:
            for slot in self._slots:
                self._start(slot)
            status = self._watch()
        finally:
            self._drain()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def pids(self) -> list[int]:
        return [s.process.pid for s in self._slots if s.process and s.process.pid]

    def _on_signal(self, signum: int, _: object) -> None:
        log.info("supervisor_stopping signal=%s", signal.Signals(signum).name)
        self._stop.set()

    def _start(self, slot: _Slot) -> None:
        self._beats[slot.index] = 0.0
        process = _CONTEXT.Process(
            target=self.target,
            args=(slot.index, self.options, self._beats),
            name=f"fishhook-worker-{slot.index}",
        )
        process.start()
        slot.process, slot.started_at, slot.ready = process, time.monotonic(), False
        log.info("worker_started index=%s pid=%s", slot.index, process.pid)

    def _watch(self) -> int:
        while not self._stop.wait(CHECK_INTERVAL):
            now = time.monotonic()
            for slot in self._slots:
                if not self._check(slot, now):
                    return 1
        return 0

    def _check(self, slot: _Slot, now: float) -> bool:
        """Replace the slot's worker if it died or hangs; False: give up serving."""
        if slot.not_before:  # waiting to start again after a failed start
            if now >= slot.not_before:
                slot.not_before = 0.0
                self._restart(slot)
            return True
        process = slot.process
        assert process is not None
        beat = self._beats[slot.index]
        if beat and not slot.ready:
            slot.ready, slot.failed_starts = True, 0
            log.info("worker_ready index=%s pid=%s", slot.index, process.pid)
        if not process.is_alive():
            log.warning(
                "worker_died index=%s pid=%s exitcode=%s", slot.index, process.pid, process.exitcode
            )
            if not slot.ready:
                slot.failed_starts += 1
                if slot.failed_starts >= START_ATTEMPTS:
                    log.error(
                        "worker_cannot_start index=%s attempts=%s", slot.index, START_ATTEMPTS
                    )
                    return False
                slot.not_before = now + min(MAX_RESTART_DELAY, 2.0 ** (slot.failed_starts - 1))
                return True
        else:
            silent = now - (beat or slot.started_at)
            limit, setting = (
                (self.health_timeout, "FISHHOOK_WORKER_HEALTH_TIMEOUT")
                if slot.ready
                else (self.start_timeout, "FISHHOOK_WORKER_START_TIMEOUT")
            )
            if silent <= limit:
                return True
            log.error(
                "worker_hung index=%s pid=%s ready=%s silent_s=%.0f: killed and replaced (%s=%s)",
                slot.index,
                process.pid,
                slot.ready,
                silent,
                setting,
                limit,
            )
            process.kill()
            process.join(5)
        self._restart(slot)
        return True

    def _restart(self, slot: _Slot) -> None:
        self.restarts += 1
        self._start(slot)

    def _drain(self) -> None:
        """SIGTERM every worker (uvicorn drains its connections), then wait; kill stragglers."""
        running = [s.process for s in self._slots if s.process and s.process.is_alive()]
        for process in running:
            if process.pid:
                process.terminate()
        deadline = time.monotonic() + self.shutdown_timeout + 5
        for process in running:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                log.error(
                    "worker_kill pid=%s: still running after the shutdown timeout", process.pid
                )
                process.kill()
                process.join(5)
