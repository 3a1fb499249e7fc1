"""/fish submits: AceData's bodies and `model` header, forwarded like /v1, answered like AceData."""

import asyncio

from tests.support.api import post_callback, read
from tests.support.dropin import accepted_task
from tests.support.fixtures import fixture


async def test_async_tts_answers_acedatas_task_id_and_forwards_the_model_header(client, acedata):
    body = {"text": "Hi.", "format": "wav", "reference_id": ["a", "b"], "async": True}
    answer = await client.post("/fish/tts", json=body, headers={"model": "s2-pro"})

    assert answer.status_code == 200, answer.text
    assert answer.json().keys() == fixture("tts_submit_response_async").keys()
    [sent] = acedata.sent("/fish/tts")
    assert acedata.requests[0].headers["model"] == "s2-pro"
    assert "async" not in sent and sent["callback_url"].startswith("http://fishhook.test/")
    assert (sent["format"], sent["reference_id"]) == ("wav", ["a", "b"])
    task = await read(client, answer.json()["task_id"])
    assert (task["kind"], task["status"], task["input"]["model"]) == (
        "speech",
        "submitted",
        "s2-pro",
    )


async def test_blocking_submit_answers_the_result_once_the_callback_lands(client):
    body = {k: v for k, v in fixture("audios_submit_request").items() if k != "callback_url"}
    waiting = asyncio.create_task(client.post("/fish/audios", json=body))
    task = await accepted_task(client)
    result = {**fixture("audios_callback_success"), "task_id": task["task_id"]}
    assert (await post_callback(client, task["id"], result)).status_code == 200

    answer = await asyncio.wait_for(waiting, 10)
    assert answer.status_code == 200
    assert answer.json() == result


async def test_blocking_submit_that_fails_answers_acedatas_failure_body(client):
    body = {"voice_url": "https://cdn.example.com/a.mp3"}
    waiting = asyncio.create_task(client.post("/fish/voices", json=body))
    task = await accepted_task(client)
    failure = {**fixture("callback_failure"), "task_id": task["task_id"]}
    assert (await post_callback(client, task["id"], failure)).status_code == 200

    answer = await asyncio.wait_for(waiting, 10)
    assert answer.status_code == 400
    assert answer.json() == failure


async def test_blocking_submit_that_outlasts_the_wait_is_a_timeout_naming_the_task(serve):
    async with serve(fish_wait_timeout=0.2) as (_, client):
        answer = await client.post("/fish/tts", json={"text": "slow"})
        task = (await client.get("/v1/tasks")).json()["items"][0]
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "timeout"
    assert task["task_id"] in answer.json()["error"]["message"]


async def test_model_create_is_a_voice_task_forwarded_to_fish_model(client, acedata):
    body = {"title": "Mine", "voices": "https://cdn.example.com/a.mp3", "tags": ["x"]}
    answer = await client.post("/fish/model", json={**body, "async": True})

    assert answer.status_code == 200, answer.text
    assert acedata.sent("/fish/model")[0]["title"] == "Mine"
    task = await read(client, answer.json()["task_id"])
    assert task["kind"] == "voice"


async def test_model_list_and_read_pass_through_with_query(client, acedata):
    listing = {"total": 1, "items": [{"_id": "m1", "title": "t"}], "has_more": False}
    acedata.answer("/fish/model", 200, listing)
    acedata.answer("/fish/model/m1", 200, listing["items"][0])

    got = await client.get("/fish/model", params={"title": "t", "self": "true", "page_size": 5})
    one = await client.get("/fish/model/m1")

    assert (got.status_code, got.json()) == (200, listing)
    assert (one.status_code, one.json()) == (200, listing["items"][0])
    sent = acedata.requests[0]
    assert sent.method == "GET" and sent.url.params["self"] == "true"
    assert sent.headers["authorization"].startswith("Bearer ")


async def test_model_read_retries_an_outage_then_maps_acedatas_error(client, acedata):
    acedata.answer("/fish/model/gone", 500, fixture("error_api_error"))
    missing = {"success": False, "error": {"code": "not_found", "message": "no such model"}}
    acedata.answer("/fish/model/gone", 404, missing)

    answer = await client.get("/fish/model/gone")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert len(acedata.requests) == 2
