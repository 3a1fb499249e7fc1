"""The Prometheus text of one scrape: fishhook's families, summed over a process's workers,
plus the process collectors. Reads memory and the metric files only, never the database."""

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    ProcessCollector,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from app.metrics.service import version

CONTENT_TYPE = CONTENT_TYPE_LATEST

# How the process collector's figures of several processes add up.
_SUMMED = ("process_cpu_seconds", "process_resident_memory_bytes", "process_virtual_memory_bytes")
_SUMMED_FDS = "process_open_fds"
_EARLIEST = ("process_start_time_seconds", "process_max_fds")


class InfoCollector(Collector):
    """`fishhook_info{version}` 1."""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("fishhook_info", "fishhook's version", labels=["version"])
        info.add_metric([version()], 1)
        yield info


class WorkersProcessCollector(Collector):
    """The process collector over the supervisor and every live worker: CPU, memory and
    open files summed, start time and the file limit from the earliest."""

    def __init__(self, directory: str) -> None:
        self._directory = Path(directory)

    def pids(self) -> list[int]:
        found = {os.getpid(), os.getppid()}
        for path in self._directory.glob("*.db"):
            tail = path.stem.rsplit("_", 1)[-1]
            if tail.isdigit():
                found.add(int(tail))
        return sorted(pid for pid in found if pid > 1 and Path(f"/proc/{pid}").exists())

    def collect(self) -> Iterator[Metric]:
        pids = self.pids()
        workers = GaugeMetricFamily(
            "fishhook_processes", "Live processes of this fishhook serve (supervisor, workers)"
        )
        workers.add_metric([], len(pids))
        yield workers
        merged: dict[str, Metric] = {}
        for pid in pids:
            for family in ProcessCollector(pid=_constant(pid), registry=None).collect():
                _merge(merged, family)
        yield from merged.values()


def _constant(pid: int) -> Callable[[], int]:
    return lambda: pid


def _merge(merged: dict[str, Metric], family: Metric) -> None:
    known = merged.get(family.name)
    if known is None:
        merged[family.name] = family
        return
    if not (known.samples and family.samples):
        return
    mine, theirs = known.samples[0], family.samples[0]
    if family.name in _SUMMED or family.name == _SUMMED_FDS:
        combined = mine.value + theirs.value
    elif family.name in _EARLIEST:
        combined = min(mine.value, theirs.value)
    else:
        return
    known.samples[0] = mine._replace(value=combined)


def multiprocess() -> bool:
    """Whether the metric values live in PROMETHEUS_MULTIPROC_DIR's files (see multiproc)."""
    return values.ValueClass is not values.MutexValue


_info_registered = False


def _registries() -> Iterable[CollectorRegistry]:
    global _info_registered
    if multiprocess():
        registry = CollectorRegistry()
        directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        registry.register(WorkersProcessCollector(directory))
        registry.register(InfoCollector())
        return [registry]
    # One process (tests, embedded use): the default registry, with its process collectors.
    if not _info_registered:
        REGISTRY.register(InfoCollector())
        _info_registered = True
    return [REGISTRY]


def render() -> bytes:
    return b"".join(generate_latest(registry) for registry in _registries())
