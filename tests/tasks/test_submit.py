import json

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from tests.support.api import SPEECH, VOICE, post_callback, read, state, submit
from tests.support.fixtures import fixture
from tests.support.settings import ACEDATA_TOKEN


async def test_voice_submit_sends_the_documented_request(client, acedata):
    request = fixture("voices_submit_request")
    request.pop("callback_url")
    task = await submit(client, **request)

    [sent] = [r for r in acedata.requests if r.url.path == "/fish/voices"]
    assert sent.method == "POST"
    assert sent.headers["authorization"] == f"Bearer {ACEDATA_TOKEN}"
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["content-type"] == "application/json"
    body = json.loads(sent.content)
    assert {k: v for k, v in body.items() if k != "callback_url"} == request
    assert body["callback_url"].startswith(
        f"http://fishhook.test/callbacks?task={task['id']}&token="
    )
    assert task["status"] == "submitted"
    assert task["kind"] == "voice"


async def test_voice_submit_answers_202_with_acedata_task_id(client, acedata):
    acedata.answer("/fish/voices", 200, fixture("voices_submit_response_async"))
    task = await submit(client)
    assert task["task_id"] == "9f626a13-96ec-4dec-8846-dc5aab7362a8"
    assert task["id"].startswith("tsk_")
    assert task["input"] == VOICE
    assert task["output"] is None and task["error"] is None and task["finished_at"] is None


async def test_image_urls_is_accepted_and_sent_as_image_url(client, acedata):
    await submit(
        client, image_urls=["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"]
    )
    [body] = acedata.sent("/fish/voices")
    assert body["image_url"] == "https://cdn.example.com/a.png"
    assert "image_urls" not in body


async def test_speech_submit_sends_model_as_header_not_body(client, acedata):
    task = await submit(client, "speech", model="s2-pro", format="mp3", prosody={"speed": 1.2})
    [sent] = [r for r in acedata.requests if r.url.path == "/fish/tts"]
    assert sent.headers["model"] == "s2-pro"
    body = json.loads(sent.content)
    assert "model" not in body
    assert body["text"] == SPEECH["text"]
    assert body["prosody"] == {"speed": 1.2}
    assert task["kind"] == "speech" and task["status"] == "submitted"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/voices", {**VOICE, "colour": "blue"}),
        ("/v1/speech", {**SPEECH, "speed": 2}),
        ("/v1/voices", {"title": "no voice_url"}),
        ("/v1/speech", {"text": ""}),
        ("/v1/speech", {**SPEECH, "format": "ogg"}),
        ("/v1/voices", {"voice_url": "not a url"}),
    ],
)
async def test_bad_submit_is_422_problem_and_calls_nobody(client, acedata, path, body):
    answer = await client.post(path, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "validation_error"
    assert acedata.requests == []
    assert (await client.get("/v1/tasks")).json()["items"] == []


async def test_refused_submit_passes_acedata_code_and_keeps_failed_task(client, acedata):
    acedata.answer("/fish/voices", 400, fixture("error_bad_request"))
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["code"] == "bad_request"
    assert problem["trace_id"] == "2cf86e86-22a4-46e1-ac2f-032c0f2a4e89"
    [task] = (await client.get("/v1/tasks")).json()["items"]
    assert task["status"] == "failed"
    assert task["error"]["code"] == "bad_request"
    assert task["error"]["message"] == "voice_url is required"


async def test_tts_validation_error_shape_is_a_400(client, acedata):
    acedata.answer("/fish/tts", 400, fixture("error_tts_validation"))
    answer = await client.post("/v1/speech", json=SPEECH)
    assert answer.status_code == 400
    assert answer.json()["code"] == "bad_request"
    assert "Input should be 'pcm' or 'mp3'" in answer.json()["detail"]


async def test_invalid_token_is_502_and_never_shows_the_token(client, acedata):
    acedata.answer("/fish/voices", 401, fixture("error_invalid_token"))
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 502
    assert answer.json()["code"] == "invalid_token"
    assert ACEDATA_TOKEN not in answer.text
    [task] = (await client.get("/v1/tasks")).json()["items"]
    assert ACEDATA_TOKEN not in json.dumps(task)


async def test_unreadable_upstream_answer_is_upstream_invalid_response(client, acedata):
    for _ in range(50):  # a proxy's error page on every retry, until the budget runs out
        acedata.answer("/fish/voices", 502, b"<html>Bad gateway</html>")
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 502
    assert answer.json()["code"] == "upstream_invalid_response"


async def test_synchronous_result_in_submit_answer_finishes_the_task(client, acedata):
    acedata.answer("/fish/voices", 200, fixture("voices_response_sync"))
    task = await submit(client)
    assert task["status"] == "succeeded"
    assert task["output"]["voice_id"] == "d5d21261512b4852b9ccd709facf93f3"
    assert (await read(client, task["id"]))["status"] == "succeeded"


async def test_without_acedata_token_submits_are_refused_clearly(app, client, acedata):
    app.state.runtime.acedata._token = None
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 503
    assert answer.json()["code"] == "acedata_not_configured"
    assert acedata.requests == []


async def test_acceptance_after_the_callback_finished_the_task_changes_nothing(
    app, client, acedata
):
    task_id = "4c0cbd4e-8a4f-4a53-a3a2-1f1f5e1f7d21"
    finished: list[dict] = []

    async def callback_first(request):
        url = json.loads(request.content)["callback_url"]
        ref = url.split("task=")[1].split("&")[0]
        body = {**fixture("voices_callback_success"), "task_id": task_id}
        assert (await post_callback(client, ref, body)).json()["outcome"] == "applied"
        finished.append(await state(client, ref))

    acedata.before_answer = callback_first
    acedata.answer("/fish/voices", 200, {"task_id": task_id, "trace_id": "late-trace"})
    task = await submit(client)

    assert finished[0]["status"] == "succeeded"
    assert await state(client, task["id"]) == finished[0]
    async with app.state.runtime.sessionmaker() as session:
        row = (
            await session.execute(
                text("SELECT updated_at, finished_at, next_check_at FROM tasks WHERE id = :id"),
                {"id": task["id"]},
            )
        ).one()
    assert row.updated_at <= row.finished_at
    assert row.next_check_at is None


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({"content-type": "application/json"}, b'{"text": "unterminated'),
        ({"content-type": "application/json"}, b'["a list"]'),
        ({"content-type": "application/json"}, b""),
        ({"content-type": "text/plain"}, b'{"text": "hello"}'),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_422_and_calls_nobody(
    client, acedata, headers, content
):
    answer = await client.post("/v1/speech", headers=headers, content=content)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "validation_error"
    assert acedata.requests == []
    assert (await client.get("/v1/tasks")).json()["items"] == []


async def test_with_api_keys_a_submit_needs_a_bearer_key(client, acedata, settings):
    settings.api_keys = [SecretStr("key-one")]
    for authorization in (None, "Bearer key-two", "key-one"):
        headers = {"authorization": authorization} if authorization else {}
        refused = await client.post("/v1/speech", json=SPEECH, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["code"] == "invalid_api_key"
        assert refused.headers["www-authenticate"] == "Bearer"
    assert acedata.requests == []
    accepted = await client.post(
        "/v1/speech", json=SPEECH, headers={"authorization": "Bearer key-one"}
    )
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "submitted"


async def test_a_body_nested_too_deep_to_parse_is_a_problem_not_a_crash(client, acedata):
    deep = b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    answer = await client.post(
        "/v1/speech", headers={"content-type": "application/json"}, content=deep
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert acedata.requests == []
