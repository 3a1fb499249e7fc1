"""The metric files shared by one `fishhook serve`'s workers (prometheus-client multiprocess mode).

The supervisor calls `metrics_directory()` before it starts any worker: a fresh temporary
directory, named in PROMETHEUS_MULTIPROC_DIR (which the workers inherit; prometheus-client
reads it when first imported, so it must be set before a worker imports the app), and
removed when serving ends. When a worker exits, the supervisor calls `worker_exited(pid)` so
the worker's live gauges (pool, intake) stop counting; its counters stay in the sums.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory() -> Iterator[str]:
    """A fresh directory for this serve's metric files, in the environment while it runs."""
    directory = tempfile.mkdtemp(prefix="fishhook-metrics-")
    previous = os.environ.get(ENV)
    os.environ[ENV] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


def worker_exited(pid: int) -> None:
    """Drop the live gauges of a worker that is gone (its counters keep counting in sums)."""
    directory = os.environ.get(ENV)
    if directory is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
