"""FISHHOOK_PORT alone moves the whole local loop: callbacks come back to the port served."""

import subprocess
import sys

import httpx
import pytest

from tests.support.database import empty_tables
from tests.support.polling import eventually
from tests.support.processes import ROOT, Service, stop, wait_until_ready
from tests.support.receiver import free_port

pytestmark = pytest.mark.e2e


async def test_with_only_fishhook_port_set_callbacks_reach_that_port(
    database_url, simulator_url, sim, capfd
):
    svc = Service(database_url, simulator_url, reconcile_after="600")
    port = free_port()
    env = {k: v for k, v in svc.env.items() if k != "FISHHOOK_PUBLIC_URL"}
    env.update({"FISHHOOK_PORT": str(port), "FISHHOOK_LOG_LEVEL": "info"})
    command = [sys.executable, "-m", "app.cli", "serve"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/readyz", proc)
        async with httpx.AsyncClient(base_url=url, timeout=30) as api:
            answer = await api.post("/v1/voices", json={"voice_url": "https://x.example/a.mp3"})
            task = answer.json()
            [sent] = (await sim.get("/_sim/requests")).json()["items"]
            assert sent["body"]["callback_url"].startswith(f"{url}/callbacks?")
            # Finished by the simulator's callback (reconciliation waits 600 s).

            async def succeeded() -> bool:
                return (await api.get(f"/v1/tasks/{task['id']}")).json()["status"] == "succeeded"

            await eventually(succeeded, timeout=15, interval=0.1, what="the callback")
    finally:
        stop(proc)
        await empty_tables(database_url)
    assert f"callbacks_public_url url={url}" in capfd.readouterr().err
