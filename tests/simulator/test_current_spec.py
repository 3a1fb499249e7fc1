"""The current spec on the simulator: `async`, voice models (create, list, read), and AceData's
answer to paths and methods it does not have."""

import pytest

from tests.support.polling import eventually
from tests.support.simulator import AUDIO_URL, FISH_ID, SimEnv

MODEL = {"title": "Mine", "voices": "https://cdn.example.com/a.mp3", "tags": ["calm"]}


async def test_async_tts_answers_at_once_and_finishes_for_retrieve(sim: SimEnv) -> None:
    answer = await sim.fish("/fish/tts", {"text": "Hi.", "async": True})

    assert answer.status_code == 200 and answer.json().keys() == {"task_id", "started_at"}
    await eventually(sim.all_jobs_finished)
    record = (await sim.retrieve(answer.json()["task_id"])).json()
    assert AUDIO_URL.match(record["response"]["audio_url"])
    assert sim.receiver.received == []


async def test_tts_accepts_every_field_of_the_current_spec(sim: SimEnv) -> None:
    body = {
        "text": "Hi.",
        "format": "wav",
        "references": [{"audio": "https://cdn.example.com/a.mp3", "text": "Hello."}],
        "reference_id": ["a", "b"],
        "opus_bitrate": 32,
        "min_chunk_length": 50,
        "latency": "balanced",
    }
    answer = await sim.fish("/fish/tts", body, headers={"model": "s2.1-pro"})
    assert answer.status_code == 200, answer.text


async def test_model_created_is_listed_and_read(sim: SimEnv) -> None:
    created = (await sim.fish("/fish/model", MODEL)).json()

    assert created["success"] is True and FISH_ID.match(created["data"]["_id"])
    model_id = created["data"]["_id"]
    auth = {"authorization": "Bearer sim-test-token"}
    mine = await sim.client.get("/fish/model", params={"self": "true"}, headers=auth)
    tagged = await sim.client.get("/fish/model", params={"tag": "calm"}, headers=auth)
    one = await sim.client.get(f"/fish/model/{model_id}", headers=auth)
    missing = await sim.client.get("/fish/model/nope", headers=auth)
    assert [m["_id"] for m in mine.json()["items"]] == [model_id]
    assert tagged.json()["total"] == 1
    assert one.json() == created["data"]
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


async def test_model_without_voices_is_bad_request(sim: SimEnv) -> None:
    answer = await sim.fish("/fish/model", {"title": "x"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "bad_request")


async def test_model_list_needs_the_token(sim: SimEnv) -> None:
    answer = await sim.client.get("/fish/model", headers={"authorization": "Bearer wrong"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "invalid_token")


@pytest.mark.parametrize(("method", "path"), [("GET", "/fish/tts"), ("POST", "/fish/a/b")])
async def test_unknown_path_or_method_is_no_api(sim: SimEnv, method: str, path: str) -> None:
    answer = await sim.client.request(method, path)

    assert answer.status_code == 404
    assert answer.json().keys() == {"success", "error", "trace_id"}
    assert answer.json()["error"]["code"] == "no_api"
