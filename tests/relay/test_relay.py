"""Relay to the client's webhook: signed, retried until 2xx, dead or gone, every attempt kept."""

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from standardwebhooks.webhooks import Webhook

from tests.support.api import post_callback, submit
from tests.support.fixtures import fixture
from tests.support.relay import finished_task, relays_when, settled


async def relay_secret(app) -> str:
    return app.state.runtime.keys.relay_secret


async def test_receiver_failing_twice_gets_three_attempts_and_one_verified_delivery(
    app, client, receiver
):
    receiver.script = [(500, {}), (500, {})]
    task = await finished_task(client, receiver)

    [message] = await relays_when(client, task["id"], settled)
    assert message["status"] == "delivered"
    assert [a["status_code"] for a in message["attempts"]] == [500, 500, 200]
    assert [a["number"] for a in message["attempts"]] == [1, 2, 3]
    assert all(a["latency_ms"] >= 0 for a in message["attempts"])
    assert message["attempts"][0]["response_excerpt"] == "answer 500"
    assert message["delivered_at"] is not None

    received = receiver.received
    assert len(received) == 3
    assert {r.headers["webhook-id"] for r in received} == {message["id"]}
    verifier = Webhook(await relay_secret(app))
    relayed = {k: v for k, v in task.items() if k != "deliveries"}
    for r in received:
        assert verifier.verify(r.body, r.headers) == relayed
    assert received[-1].json() == relayed


async def test_receiver_that_always_fails_ends_dead(client, receiver, app):
    app.state.runtime.settings.relay_max_age = 0.3
    receiver.default = 503
    task = await finished_task(client, receiver)

    [message] = await relays_when(client, task["id"], settled)
    assert message["status"] == "dead"
    assert message["next_attempt_at"] is None
    assert len(message["attempts"]) >= 2
    assert "gave up" in message["last_error"]
    count = len(receiver.received)
    await asyncio.sleep(0.2)
    assert len(receiver.received) == count


async def test_receiver_answering_410_is_not_tried_again(client, receiver):
    receiver.default = 410
    task = await finished_task(client, receiver)

    [message] = await relays_when(client, task["id"], settled)
    assert message["status"] == "dead"
    assert [a["status_code"] for a in message["attempts"]] == [410]
    assert "410" in message["last_error"]
    await asyncio.sleep(0.2)
    assert len(receiver.received) == 1


async def test_retry_after_of_a_429_is_honoured(client, receiver):
    receiver.script = [(429, {"retry-after": "1"})]
    task = await finished_task(client, receiver)

    [message] = await relays_when(client, task["id"], settled)
    assert [a["status_code"] for a in message["attempts"]] == [429, 200]
    first, second = receiver.received
    assert second.at - first.at >= 1.0


async def test_failed_task_is_relayed_too(client, receiver):
    task = await finished_task(client, receiver, status="failed")
    assert task["status"] == "failed"
    [message] = await relays_when(client, task["id"], settled)
    assert message["event"] == "failed"
    assert receiver.received[0].json()["error"] == task["error"]


async def test_task_without_callback_url_has_nothing_to_relay(client, receiver):
    task = await submit(client, "speech")
    body = fixture("tts_callback_success") | {"task_id": task["task_id"]}
    await post_callback(client, task["id"], body)
    assert (await client.get(f"/v1/tasks/{task['id']}/relays")).json() == {"items": []}
    answer = await client.post(f"/v1/tasks/{task['id']}/relay")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "nothing_to_relay"
    assert receiver.received == []


async def test_relay_again_sends_a_new_attempt_with_the_same_webhook_id(app, client, receiver):
    task = await finished_task(client, receiver)
    [message] = await relays_when(client, task["id"], settled)

    answer = await client.post(f"/v1/tasks/{task['id']}/relay")
    assert answer.status_code == 200
    again = answer.json()
    assert again["id"] == message["id"]
    assert again["status"] == "delivered"
    assert [(a["number"], a["manual"]) for a in again["attempts"]] == [(1, False), (2, True)]
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == message["id"]
    assert first.body == second.body
    Webhook(await relay_secret(app)).verify(second.body, second.headers)


async def test_unknown_task_has_no_relays(client):
    answer = await client.get("/v1/tasks/tsk_nope/relays")
    assert answer.status_code == 404
    assert answer.json()["code"] == "task_not_found"


async def test_expired_task_that_later_succeeds_is_relayed_twice(client, receiver, database_url):
    task = await submit(client, "speech", callback_url=receiver.url)
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:  # what the expiry sweep does
        await conn.execute(
            text("UPDATE tasks SET status = 'expired', updated_at = now() WHERE id = :id"),
            {"id": task["id"]},
        )
    await engine.dispose()
    await relays_when(client, task["id"], settled)
    body = fixture("tts_callback_success") | {"task_id": task["task_id"]}
    await post_callback(client, task["id"], body)

    messages = await relays_when(client, task["id"], lambda m: len(m) == 2 and settled(m))
    assert [m["event"] for m in messages] == ["expired", "succeeded"]
    assert messages[0]["id"] != messages[1]["id"]
    assert [r.json()["status"] for r in receiver.received] == ["expired", "succeeded"]


async def test_relay_never_shows_the_relay_secret(app, client, receiver):
    task = await finished_task(client, receiver)
    listing = await client.get(f"/v1/tasks/{task['id']}/relays")
    await receiver.wait_for(1)
    secret = await relay_secret(app)
    assert secret not in listing.text
    assert secret.removeprefix("whsec_") not in str(receiver.received[0].headers)


async def test_relay_again_while_an_attempt_is_in_flight_is_409(client, receiver, database_url):
    task = await finished_task(client, receiver)
    await relays_when(client, task["id"], settled)
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:  # as a process does while its attempt is in flight
        await conn.execute(
            text("UPDATE relay_messages SET locked_until = now() + interval '1 minute'")
        )
    await engine.dispose()
    answer = await client.post(f"/v1/tasks/{task['id']}/relay")
    assert answer.status_code == 409
    assert answer.json()["code"] == "relay_in_flight"
    assert answer.headers["retry-after"] == "1"
    assert len(receiver.received) == 1


async def test_relay_is_sent_at_once_when_the_task_finishes_not_at_the_next_sweep(
    app, client, receiver
):
    app.state.runtime.settings.relay_interval = 30.0
    await asyncio.sleep(0.05)  # let the loop's current short wait end
    task = await submit(client, "speech", callback_url=receiver.url)
    body = fixture("tts_callback_success") | {"task_id": task["task_id"]}
    await post_callback(client, task["id"], body)
    finished_at = time.monotonic()
    [received] = await receiver.wait_for(1, timeout=5)
    lag = received.at - finished_at
    assert lag < 0.5, f"relayed {lag:.3f} s after the task finished"
