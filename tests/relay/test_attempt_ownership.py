"""A relay attempt only settles a message it still owns, and a hung DNS check is timed out."""

import asyncio
import time

import httpx
from sqlalchemy import text

from app import url_safety as safety
from app.relay import sender, service
from tests.support.relay import finished_task, relays_when, settled


async def test_an_attempt_overtaken_by_a_later_claim_does_not_overwrite_the_message(
    app, client, receiver
):
    task = await finished_task(client, receiver)
    [message] = await relays_when(client, task["id"], settled)
    assert message["status"] == "delivered"
    async with app.state.runtime.sessionmaker() as session:
        # Another process claimed attempts 2 and 3 after this one's lease on attempt 2 ran out.
        await session.execute(
            text("UPDATE relay_messages SET attempts = 3 WHERE id = :id"), {"id": message["id"]}
        )
        row = (
            await session.execute(
                text("SELECT url, task, created_at FROM relay_messages WHERE id = :id"),
                {"id": message["id"]},
            )
        ).one()
        await session.commit()
    stale = service.Claimed(message["id"], row.url, row.task, 2, "pending", row.created_at)
    late = sender.Answer(latency_ms=5, status_code=500, excerpt="late")
    async with app.state.runtime.sessionmaker() as session:
        await service.record(
            session, stale, late, service.Policy(max_age=60, delay=1), row.created_at
        )

    [after] = (await client.get(f"/v1/tasks/{task['id']}/relays")).json()["items"]
    assert after["status"] == "delivered"
    assert after["last_error"] is None
    assert after["delivered_at"] == message["delivered_at"]
    # The late attempt is still history: it was sent.
    assert [(a["number"], a["status_code"]) for a in after["attempts"]] == [(1, 200), (2, 500)]


async def test_a_hanging_address_check_counts_against_the_attempt_timeout(monkeypatch):
    async def never_resolves(url: str, *, allow_private: bool) -> safety.Target:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")

    monkeypatch.setattr(safety, "check", never_resolves)
    started = time.monotonic()
    async with httpx.AsyncClient() as http:
        answer = await sender.send(
            http,
            "https://hangs.example.com/hook",
            key=b"k" * 32,
            message_id="msg_1",
            body=b"{}",
            seconds=0.2,
            allow_private=False,
        )
    assert time.monotonic() - started < 2
    assert answer.status_code is None
    assert answer.error is not None and answer.error.startswith("timeout")
