"""A crash after the task finished but before the relay was sent: delivered after restart."""

import asyncio
import signal
import time

import httpx
import pytest

from tests.support.database import empty_tables
from tests.support.processes import Service
from tests.support.receiver import Receiver, serve
from tests.support.relay import FAST_RELAY, settled_relays, submit_with_webhook

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_relay_pending_at_a_crash_is_delivered_after_restart(
    database_url, simulator_url, sim
):
    # A process whose relay loop does not run: the message stays in the outbox.
    svc = Service(database_url, simulator_url, **{**FAST_RELAY, "relay_enabled": "false"})
    async with serve(Receiver()) as receiver:
        try:
            await asyncio.to_thread(svc.start)
            async with httpx.AsyncClient(base_url=svc.url, timeout=30) as api:
                task = await submit_with_webhook(api, receiver.url)
                done = (await api.get(f"/v1/tasks/{task['id']}?wait=20")).json()
                assert done["status"] == "succeeded"
                [message] = (await api.get(f"/v1/tasks/{task['id']}/relays")).json()["items"]
                assert message["status"] == "pending" and message["attempts"] == []

            await asyncio.to_thread(svc.stop, signal.SIGKILL)
            assert receiver.received == []
            svc.env["FISHHOOK_RELAY_ENABLED"] = "true"
            restarted = time.monotonic()
            await asyncio.to_thread(svc.start)

            async with httpx.AsyncClient(base_url=svc.url, timeout=30) as api:
                [message] = await settled_relays(api, task["id"])
            assert message["status"] == "delivered"
            assert len(receiver.received) == 1
            assert receiver.received[0].headers["webhook-id"] == message["id"]
            print(f"\ndelivered {time.monotonic() - restarted:.2f} s after the restart began")
        finally:
            await asyncio.to_thread(svc.stop)
            await empty_tables(database_url)
