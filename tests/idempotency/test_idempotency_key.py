"""Idempotency-Key on submits: one task and one AceData call per key and request."""

import asyncio

from sqlalchemy import text

from tests.support.api import SPEECH, VOICE
from tests.support.fixtures import fixture


async def test_same_key_and_body_returns_the_first_task_with_one_acedata_call(client, acedata):
    headers = {"Idempotency-Key": "order-42"}
    first = await client.post("/v1/voices", json=VOICE, headers=headers)
    again = await client.post("/v1/voices", json=VOICE, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["task_id"] == first.json()["task_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(acedata.sent("/fish/voices")) == 1
    assert len((await client.get("/v1/tasks")).json()["items"]) == 1


async def test_simultaneous_requests_with_one_key_create_one_task(client, acedata):
    headers = {"Idempotency-Key": "burst"}
    answers = await asyncio.gather(
        *(client.post("/v1/speech", json=SPEECH, headers=headers) for _ in range(8))
    )
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(acedata.sent("/fish/tts")) == 1
    assert len((await client.get("/v1/tasks")).json()["items"]) == 1


async def test_same_key_with_another_body_is_409(client, acedata):
    headers = {"Idempotency-Key": "order-43"}
    await client.post("/v1/voices", json=VOICE, headers=headers)
    answer = await client.post("/v1/voices", json={**VOICE, "title": "other"}, headers=headers)
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "idempotency_key_reused"
    assert len(acedata.sent("/fish/voices")) == 1


async def test_same_key_on_the_other_endpoint_is_409(client, acedata):
    headers = {"Idempotency-Key": "shared"}
    await client.post("/v1/voices", json=VOICE, headers=headers)
    answer = await client.post("/v1/speech", json=SPEECH, headers=headers)
    assert answer.status_code == 409
    assert acedata.sent("/fish/tts") == []


async def test_without_a_key_every_submit_is_a_new_task(client, acedata):
    await client.post("/v1/voices", json=VOICE)
    await client.post("/v1/voices", json=VOICE)
    assert len(acedata.sent("/fish/voices")) == 2


async def test_a_key_is_forgotten_after_24_hours(app, client, acedata):
    headers = {"Idempotency-Key": "yesterday"}
    first = (await client.post("/v1/voices", json=VOICE, headers=headers)).json()
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(
            text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        )
        await session.commit()
    again = await client.post("/v1/voices", json=VOICE, headers=headers)
    assert again.status_code == 202
    assert again.json()["id"] != first["id"]
    assert len(acedata.sent("/fish/voices")) == 2


async def test_a_submit_refused_as_the_clients_mistake_is_replayed_as_its_failed_task(
    client, acedata
):
    acedata.answer("/fish/voices", 400, {"error": {"code": "bad_request", "message": "no"}})
    headers = {"Idempotency-Key": "refused"}
    first = await client.post("/v1/voices", json=VOICE, headers=headers)
    assert first.status_code == 400
    again = await client.post("/v1/voices", json=VOICE, headers=headers)
    assert again.json()["status"] == "failed"
    assert again.json()["error"]["code"] == "bad_request"
    assert again.headers["idempotent-replayed"] == "true"
    assert len(acedata.sent("/fish/voices")) == 1


async def test_a_retryable_failure_frees_the_key_so_the_retry_submits_afresh(client, acedata):
    # Retry-After beyond the retry budget: fishhook gives up at once and answers 503.
    acedata.answer("/fish/voices", 429, fixture("error_too_many_requests"), {"retry-after": "30"})
    headers = {"Idempotency-Key": "busy-then-fine"}
    first = await client.post("/v1/voices", json=VOICE, headers=headers)
    assert first.status_code == 503
    again = await client.post("/v1/voices", json=VOICE, headers=headers)
    assert again.status_code == 202
    assert "idempotent-replayed" not in again.headers
    assert again.json()["status"] == "submitted"
    assert again.json()["task_id"]
    assert len(acedata.sent("/fish/voices")) == 2
    tasks = {t["id"]: t["status"] for t in (await client.get("/v1/tasks")).json()["items"]}
    assert len(tasks) == 2
    assert tasks[again.json()["id"]] == "submitted"
    assert sorted(tasks.values()) == ["failed", "submitted"]
    # And the new task is what the key now replays.
    third = await client.post("/v1/voices", json=VOICE, headers=headers)
    assert third.json()["id"] == again.json()["id"]
    assert third.headers["idempotent-replayed"] == "true"


async def test_an_account_problem_502_frees_the_key_too(client, acedata):
    acedata.answer("/fish/voices", 401, {"error": {"code": "invalid_token", "message": "no"}})
    headers = {"Idempotency-Key": "fixed-token"}
    assert (await client.post("/v1/voices", json=VOICE, headers=headers)).status_code == 502
    again = await client.post("/v1/voices", json=VOICE, headers=headers)
    assert again.status_code == 202
    assert again.json()["status"] == "submitted"
    assert len(acedata.sent("/fish/voices")) == 2


async def test_an_overlong_key_is_400(client, acedata):
    answer = await client.post("/v1/voices", json=VOICE, headers={"Idempotency-Key": "k" * 256})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_idempotency_key"
    assert acedata.requests == []
