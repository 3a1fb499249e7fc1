"""Errors on /fish/* are AceData's: its shape, codes and statuses; /v1 stays problem+json."""

import pytest
from pydantic import SecretStr

from tests.support.fixtures import fixture
from tests.support.settings import ACEDATA_TOKEN

ACEDATA_SHAPE = {"success", "error", "trace_id"}


def assert_acedata_error(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body.keys() == ACEDATA_SHAPE
    assert body["success"] is False
    assert body["error"]["code"] == code and body["error"]["message"]
    assert body["trace_id"]
    return body


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/fish/songs"), ("GET", "/fish/tts"), ("DELETE", "/fish/tasks"), ("GET", "/fish/")],
)
async def test_unknown_path_or_method_is_no_api(client, method, path):
    body = assert_acedata_error(await client.request(method, path), 404, "no_api")
    assert path in body["error"]["message"]


async def test_bad_body_is_bad_request_and_calls_nobody(client, acedata):
    answer = await client.post("/fish/tts", json={"text": "hi", "format": "ogg"})

    body = assert_acedata_error(answer, 400, "bad_request")
    assert "format" in body["error"]["message"]
    assert acedata.requests == []


async def test_body_that_is_not_json_is_bad_request(client):
    answer = await client.post(
        "/fish/tasks", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_acedata_error(answer, 400, "bad_request")


async def test_unknown_model_header_is_bad_request(client):
    answer = await client.post("/fish/tts", json={"text": "hi"}, headers={"model": "speech-9"})
    assert_acedata_error(answer, 400, "bad_request")


async def test_wrong_key_is_invalid_token_and_missing_key_is_no_token(serve):
    async with serve(api_keys=[SecretStr("fish-key-0123456789")]) as (_, client):
        wrong = await client.post(
            "/fish/tts", json={"text": "hi"}, headers={"authorization": "Bearer nope"}
        )
        missing = await client.post("/fish/tasks", json={"action": "retrieve", "id": "x"})
        right = await client.post(
            "/fish/tasks",
            json={"action": "retrieve_batch", "ids": []},
            headers={"authorization": "Bearer fish-key-0123456789"},
        )
    assert_acedata_error(wrong, 401, "invalid_token")
    assert_acedata_error(missing, 400, "no_token")
    assert right.status_code == 200 and right.json() == {"items": [], "count": 0}


async def test_body_over_the_limit_is_request_too_large(serve):
    async with serve(max_body_bytes=100) as (_, client):
        answer = await client.post("/fish/tts", json={"text": "x" * 200})
    assert_acedata_error(answer, 413, "request_too_large")


async def test_acedata_refusal_keeps_its_code_status_and_trace_id(client, acedata):
    acedata.answer("/fish/tts", 403, fixture("error_used_up"))

    body = assert_acedata_error(await client.post("/fish/tts", json={"text": "hi"}), 403, "used_up")
    assert body["trace_id"] == fixture("error_used_up")["trace_id"]


async def test_acedata_refusing_fishhooks_token_is_not_the_clients_invalid_token(client, acedata):
    acedata.answer("/fish/tts", 401, fixture("error_invalid_token"))

    body = assert_acedata_error(
        await client.post("/fish/tts", json={"text": "hi"}), 500, "api_error"
    )
    assert "fishhook's upstream token" in body["error"]["message"]


async def test_v1_errors_stay_problem_json(client):
    answer = await client.post("/v1/speech", json={"text": ""})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get("/nowhere")).headers["content-type"] == "application/problem+json"


async def test_acedata_token_shows_in_no_fish_answer(client, acedata):
    acedata.answer("/fish/tts", 401, fixture("error_invalid_token"))
    acedata.answer("/fish/model", 200, b"<html>not json</html>")
    answers = [
        await client.post("/fish/tts", json={"text": "hi"}),
        await client.get("/fish/model"),
        await client.post("/fish/voices", json={"voice_url": "x"}),
    ]
    assert [a.status_code for a in answers] == [500, 500, 400]
    for answer in answers:
        assert ACEDATA_TOKEN not in answer.text and ACEDATA_TOKEN not in str(answer.headers)
