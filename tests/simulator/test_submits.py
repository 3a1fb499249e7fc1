"""Submits to /fish/voices, /fish/tts and /fish/audios: answers, callbacks and validation."""

import json
from datetime import datetime
from typing import Any

import pytest

from tests.support.fixtures import fixture
from tests.support.polling import eventually
from tests.support.simulator import AUDIO_URL, FISH_ID, HOOK, UUID4, SimEnv

VOICE_REQUEST = {**fixture("voices_submit_request"), "callback_url": HOOK}
TTS_REQUEST = {**fixture("tts_submit_request"), "callback_url": HOOK}
AUDIOS_REQUEST = {**fixture("audios_submit_request"), "callback_url": HOOK}


def without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in names}


async def test_voice_submit_posts_callback_with_fixture_shape(sim: SimEnv) -> None:
    response = await sim.fish("/fish/voices", VOICE_REQUEST)

    assert response.status_code == 200
    assert response.json().keys() == fixture("voices_submit_response_async").keys()
    task_id = response.json()["task_id"]
    assert UUID4.match(task_id)
    await eventually(lambda: len(sim.receiver.received) == 1)
    call = sim.receiver.received[0]
    expected = fixture("voices_callback_success")
    assert call.json().keys() == expected.keys()
    assert call.json()["data"].keys() == expected["data"].keys()
    assert call.json()["task_id"] == task_id and call.json()["success"] is True
    assert UUID4.match(call.json()["trace_id"])
    data = call.json()["data"]
    assert FISH_ID.match(data["_id"])
    assert (data["title"], data["description"]) == ("test", "test")
    assert (data["type"], data["train_mode"], data["state"]) == ("tts", "fast", "trained")
    sample = data["samples"][0]
    assert sample.keys() == expected["data"]["samples"][0].keys()
    assert FISH_ID.match(sample["task_id"]) and sample["task_id"] != task_id


async def test_callback_post_is_plain_unsigned_json(sim: SimEnv) -> None:
    await sim.fish("/fish/voices", VOICE_REQUEST)

    await eventually(lambda: len(sim.receiver.received) == 1)
    headers = sim.receiver.received[0].headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"]
    assert not [name for name in headers if "signature" in name or name.startswith("webhook-")]


async def test_voice_submit_without_callback_answers_result_synchronously(sim: SimEnv) -> None:
    response = await sim.fish("/fish/voices", without(VOICE_REQUEST, "callback_url"))

    assert response.status_code == 200
    body = response.json()
    expected = fixture("voices_response_sync")
    assert body.keys() == expected.keys()
    assert expected["data"].keys() <= body["data"].keys()
    assert (await sim.retrieve(body["task_id"])).json()["response"] == body
    assert sim.receiver.received == []


async def test_voices_without_voice_url_is_bad_request(sim: SimEnv) -> None:
    response = await sim.fish("/fish/voices", without(VOICE_REQUEST, "voice_url"))

    assert response.status_code == 400
    body = response.json()
    assert body.keys() == fixture("error_bad_request").keys()
    assert body["success"] is False and body["error"]["code"] == "bad_request"
    assert await sim.listing("jobs") == []


async def test_missing_token_answers_no_token(sim: SimEnv) -> None:
    response = await sim.fish("/fish/voices", VOICE_REQUEST, token=None)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_token"
    assert UUID4.match(response.json()["trace_id"])


async def test_wrong_token_answers_invalid_token(sim: SimEnv) -> None:
    response = await sim.fish("/fish/tts", TTS_REQUEST, token="wrong")

    assert response.status_code == 401
    expected = fixture("error_invalid_token")
    assert without(response.json(), "trace_id") == without(expected, "trace_id")
    assert UUID4.match(response.json()["trace_id"])
    assert response.json()["trace_id"] != expected["trace_id"]


async def test_tts_submit_answers_started_at_then_posts_flat_callback(sim: SimEnv) -> None:
    response = await sim.fish("/fish/tts", TTS_REQUEST, headers={"model": "s2-pro"})

    assert response.status_code == 200
    body = response.json()
    assert body.keys() == fixture("tts_submit_response_async").keys()
    assert body["started_at"].endswith("Z")
    datetime.fromisoformat(body["started_at"])
    await eventually(lambda: len(sim.receiver.received) == 1)
    callback = sim.receiver.received[0].json()
    assert callback.keys() == fixture("tts_callback_success").keys()
    assert callback["task_id"] == body["task_id"]
    assert AUDIO_URL.match(callback["audio_url"])


async def test_tts_without_callback_answers_flat_body_with_trace_id(sim: SimEnv) -> None:
    response = await sim.fish("/fish/tts", without(TTS_REQUEST, "callback_url"))

    assert response.status_code == 200
    assert response.json().keys() == {"task_id", "audio_url", "trace_id"}
    assert AUDIO_URL.match(response.json()["audio_url"])


async def test_tts_accepts_wav_as_the_current_spec_does(sim: SimEnv) -> None:
    response = await sim.fish("/fish/tts", {**TTS_REQUEST, "format": "wav"})

    assert response.status_code == 200, response.text


async def test_tts_rejects_an_unknown_format_in_the_fixture_shape(sim: SimEnv) -> None:
    response = await sim.fish("/fish/tts", {**TTS_REQUEST, "format": "ogg"})

    assert response.status_code == 400
    assert response.json().keys() == fixture("error_tts_validation").keys()
    [error] = json.loads(response.json()["message"])
    assert error["msg"] == "Input should be 'mp3', 'wav' or 'pcm'"
    assert (error["type"], error["loc"], error["input"]) == ("literal_error", ["format"], "ogg")


async def test_tts_without_text_is_validation_error(sim: SimEnv) -> None:
    response = await sim.fish("/fish/tts", without(TTS_REQUEST, "text"))

    assert response.status_code == 400
    assert response.json().keys() == {"status", "message"}
    errors = json.loads(response.json()["message"])
    assert [(error["type"], error["loc"]) for error in errors] == [("missing", ["text"])]


async def test_tts_rejects_unknown_model_header(sim: SimEnv) -> None:
    response = await sim.fish("/fish/tts", TTS_REQUEST, headers={"model": "speech-1.5"})

    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert json.loads(response.json()["message"])[0]["loc"] == ["model"]


@pytest.mark.parametrize("model", ["s1", "s2-pro", "s2.1-pro"])
async def test_tts_accepts_each_documented_model(sim: SimEnv, model: str) -> None:
    response = await sim.fish("/fish/tts", TTS_REQUEST, headers={"model": model})

    assert response.status_code == 200


async def test_audios_submit_posts_callback_with_fixture_shape(sim: SimEnv) -> None:
    response = await sim.fish("/fish/audios", AUDIOS_REQUEST)

    assert response.status_code == 200
    task_id = response.json()["task_id"]
    await eventually(lambda: len(sim.receiver.received) == 1)
    callback = sim.receiver.received[0].json()
    assert callback.keys() == fixture("audios_callback_success").keys()
    assert callback["task_id"] == task_id
    assert [item.keys() for item in callback["data"]] == [{"audio_url"}]
    assert AUDIO_URL.match(callback["data"][0]["audio_url"])


@pytest.mark.parametrize(
    "body",
    [
        without(AUDIOS_REQUEST, "prompt"),
        without(AUDIOS_REQUEST, "voice_id"),
        {**AUDIOS_REQUEST, "action": "generate"},
    ],
    ids=["no-prompt", "no-voice-id", "wrong-action"],
)
async def test_audios_incomplete_submit_is_bad_request(sim: SimEnv, body: dict[str, Any]) -> None:
    response = await sim.fish("/fish/audios", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


async def test_unknown_fish_api_answers_no_api(sim: SimEnv) -> None:
    response = await sim.fish("/fish/songs", {})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_api"
