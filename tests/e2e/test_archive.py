"""The archive across real `fishhook serve` processes: a crash mid-download, two processes
sharing the work, and the memory a 50 MB copy takes."""

import asyncio
import hashlib
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from app.simulator import media as generated
from tests.support.database import empty_tables
from tests.support.processes import Service

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SPEECH = {"text": "Keep this audio.", "reference_id": "fa75e7c3f02f42e79a6aa622b6cf075e"}


def archiving(simulator_url: str, **extra: str) -> dict[str, str]:
    return {
        "relay_allow_private": "true",  # the simulator's files are on loopback
        "archive_media_base_url": f"{simulator_url}/media/",
        "archive_interval": "0.1",
        "archive_backoff_base": "0.2",
        **extra,
    }


async def speech(api: httpx.AsyncClient) -> dict[str, Any]:
    answer = await api.post("/v1/speech", json=SPEECH)
    assert answer.status_code == 202, answer.text
    task: dict[str, Any] = answer.json()
    return task


async def settled(api: httpx.AsyncClient, task_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = (await api.get(f"/v1/tasks/{task_id}")).json()
        archive = task.get("archive")
        if archive is not None and archive["status"] != "pending":
            return task
        await asyncio.sleep(0.1)
    raise AssertionError(f"task {task_id} not archived within {timeout} s")


def source_path(task: dict[str, Any]) -> str:
    return task["output"]["audio_url"].split("/media/", 1)[1]


async def requested(sim: httpx.AsyncClient) -> list[str]:
    paths: list[str] = (await sim.get("/_sim/media")).json()["requested"]
    return paths


async def test_a_crash_mid_download_leaves_no_partial_file_and_the_copy_is_redone(
    database_url, simulator_url, sim
):
    await sim.post("/_sim/media/size", json={"size": 3_000_000})
    await sim.post("/_sim/media/faults", json={"mode": "stall", "times": 1})
    # The lease is the timeout plus 5 s: a copy left by a dead process is retaken soon.
    svc = Service(database_url, simulator_url, **archiving(simulator_url, archive_timeout="4"))
    archive = Path(svc.env["FISHHOOK_DATA_DIR"]) / "archive"
    try:
        await asyncio.to_thread(svc.start)
        async with httpx.AsyncClient(base_url=svc.url, timeout=30) as api:
            task = await speech(api)
            await api.get(f"/v1/tasks/{task['id']}?wait=20")
            while not await requested(sim):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # half the file is in, the rest never comes
            [partial] = [p.stat().st_size for p in (archive / ".partial").iterdir()]
            assert 1_000_000 < partial <= 1_500_000

        await asyncio.to_thread(svc.stop, signal.SIGKILL)
        assert not (archive / task["id"]).exists()  # nothing visible under the file's name
        await asyncio.to_thread(svc.start)

        async with httpx.AsyncClient(base_url=svc.url, timeout=30) as api:
            done = await settled(api, task["id"])
            audio = await api.get(f"/v1/tasks/{task['id']}/audio")
        path = source_path(done)
        assert done["archive"]["status"] == "stored"
        assert done["archive"]["sha256"] == generated.sha256(path, 3_000_000)
        assert hashlib.sha256(audio.content).hexdigest() == done["archive"]["sha256"]
        assert await requested(sim) == [path, path]
        assert [p.name for p in (archive / task["id"]).iterdir()] == ["audio.mp3"]
    finally:
        await asyncio.to_thread(svc.stop)
        await empty_tables(database_url)


async def test_two_processes_archive_each_file_once(database_url, simulator_url, sim):
    await sim.post("/_sim/media/size", json={"size": 200_000})
    shared = tempfile.mkdtemp(prefix="fishhook-shared-archive-")
    settings = archiving(simulator_url, archive_url=Path(shared).as_uri())
    first, second = (
        Service(database_url, simulator_url, **settings),
        Service(database_url, simulator_url, **settings),
    )
    try:
        await asyncio.to_thread(first.start)
        await asyncio.to_thread(second.start)
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as api:
            tasks = await asyncio.gather(*(speech(api) for _ in range(20)))
            done = await asyncio.gather(*(settled(api, t["id"]) for t in tasks))
        assert {t["archive"]["status"] for t in done} == {"stored"}
        paths = await requested(sim)
        assert sorted(paths) == sorted(source_path(t) for t in done)  # each one, once
        assert len(list(Path(shared).glob("tsk_*/audio.mp3"))) == 20
    finally:
        await asyncio.gather(asyncio.to_thread(first.stop), asyncio.to_thread(second.stop))
        await empty_tables(database_url)


async def test_a_50_mb_file_is_archived_in_flat_memory(database_url, simulator_url, sim):
    size = 50 * 1024 * 1024
    await sim.post("/_sim/media/size", json={"size": size})
    svc = Service(database_url, simulator_url, **archiving(simulator_url))
    try:
        await asyncio.to_thread(svc.start)
        assert svc.proc is not None
        process = psutil.Process(svc.proc.pid)
        async with httpx.AsyncClient(base_url=svc.url, timeout=30) as api:
            await asyncio.sleep(1)  # startup settled
            before = process.memory_info().rss
            peak = before
            task = await speech(api)
            waiting = asyncio.create_task(settled(api, task["id"], timeout=120))
            while not waiting.done():
                peak = max(peak, process.memory_info().rss)
                await asyncio.sleep(0.02)
            done = waiting.result()
        assert done["archive"]["size"] == size
        assert done["archive"]["sha256"] == generated.sha256(source_path(done), size)
        grew = (peak - before) / 2**20
        print(
            f"\n50 MB archived: RSS {before / 2**20:.1f} MiB before, peak {peak / 2**20:.1f} MiB (+{grew:.1f})"
        )
        # Streaming holds a few 64 KB chunks, never the file: far below its 50 MB.
        assert grew < 25
    finally:
        await asyncio.to_thread(svc.stop)
        await empty_tables(database_url)
