"""Relay and long-polling over real processes: two services on one database, the simulator
as AceData, and a local webhook receiver."""

import asyncio
import time
from collections import Counter

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.support.database import empty_tables
from tests.support.processes import service
from tests.support.relay import FAST_RELAY, RELAY_SECRET, settled_relays, submit_with_webhook

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_services(database_url, simulator_url):
    with (
        service(database_url, simulator_url, **FAST_RELAY) as first,
        service(database_url, simulator_url, **FAST_RELAY) as second,
    ):
        yield first, second


@pytest.fixture
async def apis(two_services, database_url):
    first, second = two_services
    async with (
        httpx.AsyncClient(base_url=first.url, timeout=30) as a,
        httpx.AsyncClient(base_url=second.url, timeout=30) as b,
    ):
        yield a, b
    await empty_tables(database_url)


async def test_two_failures_then_success_is_one_verified_delivery_in_three_attempts(
    apis, sim, receiver
):
    api, _ = apis
    receiver.script = [(500, {}), (500, {})]
    task = await submit_with_webhook(api, receiver.url)

    [message] = await settled_relays(api, task["id"])
    assert message["status"] == "delivered"
    assert [a["status_code"] for a in message["attempts"]] == [500, 500, 200]
    assert len(receiver.received) == 3
    done = (await api.get(f"/v1/tasks/{task['id']}")).json()
    verifier = Webhook(RELAY_SECRET)
    for received in receiver.received:
        assert received.headers["webhook-id"] == message["id"]
        sent = verifier.verify(received.body, received.headers)
        # Like the deliveries count, the archive is read-time state: sent as it stood then.
        assert sent["archive"]["status"] in ("pending", "stored", "failed")
        assert {k: v for k, v in sent.items() if k != "archive"} == {
            k: v for k, v in done.items() if k not in ("deliveries", "archive")
        }
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    print(f"\nattempts 500, 500, 200; gaps between attempts: {[round(g, 3) for g in gaps]} s")


async def test_receiver_that_always_fails_ends_dead(apis, sim, receiver):
    api, _ = apis
    receiver.default = 500
    task = await submit_with_webhook(api, receiver.url)

    [message] = await settled_relays(api, task["id"])
    assert message["status"] == "dead"
    assert len(message["attempts"]) == len(receiver.received) >= 3
    assert {a["status_code"] for a in message["attempts"]} == {500}
    print(f"\nalways 500: dead after {len(message['attempts'])} attempts in 1.5 s max age")


async def test_receiver_answering_410_stops_at_once(apis, sim, receiver):
    api, _ = apis
    receiver.default = 410
    task = await submit_with_webhook(api, receiver.url)

    [message] = await settled_relays(api, task["id"])
    assert message["status"] == "dead"
    assert [a["status_code"] for a in message["attempts"]] == [410]
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 1


async def test_two_processes_never_send_the_same_attempt_twice(apis, sim, receiver):
    api, other = apis
    receiver.script = [(500, {})] * 15
    tasks = await asyncio.gather(
        *(submit_with_webhook(api if i % 2 else other, receiver.url) for i in range(20))
    )
    messages = [m for t in tasks for m in await settled_relays(api, t["id"])]

    assert {m["status"] for m in messages} == {"delivered"}
    recorded = sum(len(m["attempts"]) for m in messages)
    assert len(receiver.received) == recorded
    for m in messages:
        assert [a["number"] for a in m["attempts"]] == list(range(1, len(m["attempts"]) + 1))
        assert [a["status_code"] for a in m["attempts"]][-1] == 200
    sent = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert sent == Counter({m["id"]: len(m["attempts"]) for m in messages})
    print(f"\ntwo processes: 20 messages, {recorded} attempts sent, {recorded} received")


async def test_long_poll_wakes_when_the_callback_lands_on_another_process(apis, sim):
    waiting_api, submitting_api = apis
    # The callback goes to the process that submitted (its own PUBLIC_URL), after 1 s.
    rule = {"endpoint": "/fish/tts", "times": 1, "callback": {"delay": 1.0}}
    await sim.post("/_sim/rules", json=rule)
    task = (await submitting_api.post("/v1/speech", json={"text": "wait for me"})).json()

    answer = await waiting_api.get(f"/v1/tasks/{task['id']}", params={"wait": 20})
    answered = time.time()
    assert answer.json()["status"] == "succeeded"
    [callback] = (await sim.get("/_sim/callbacks")).json()["items"]
    assert callback["url"].startswith(str(submitting_api.base_url))
    lag = answered - callback["time"]
    assert lag < 0.5, f"the other process answered {lag:.3f} s after the callback"
    print(f"\nlong-poll on the other process answered {lag * 1000:.0f} ms after the callback")
