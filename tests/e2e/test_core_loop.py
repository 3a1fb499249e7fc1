"""Submit -> AceData (the simulator, a real process) -> callback -> task status, over HTTP."""

import asyncio

import pytest

from tests.support.fixtures import fixture
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


async def wait_finished(api, task_id: str, timeout: float = 15.0) -> dict:

    async def finished() -> dict | None:
        task = (await api.get(f"/v1/tasks/{task_id}")).json()
        return task if task["status"] not in ("pending", "submitted") else None

    return await eventually(finished, timeout=timeout, interval=0.1, what=f"task {task_id}")


async def test_voice_goes_from_submit_to_succeeded_with_voice_id(api, sim):
    request = fixture("voices_submit_request")
    request.pop("callback_url")
    answer = await api.post("/v1/voices", json=request)
    assert answer.status_code == 202
    task = answer.json()
    assert task["status"] == "submitted" and task["task_id"]

    done = await wait_finished(api, task["id"])
    assert done["status"] == "succeeded"
    assert len(done["output"]["voice_id"]) == 32
    assert done["result"]["task_id"] == task["task_id"]

    [sent] = (await sim.get("/_sim/requests")).json()["items"]
    assert sent["path"] == "/fish/voices"
    assert sent["authorized"] is True
    assert sent["headers"]["accept"] == "application/json"
    assert {k: v for k, v in sent["body"].items() if k != "callback_url"} == request
    assert sent["body"]["callback_url"].startswith(
        f"{api.base_url}/callbacks?task={task['id']}&token="
    )


async def test_speech_goes_from_submit_to_succeeded_with_audio_url(api, sim):
    answer = await api.post(
        "/v1/speech", json={"text": "Hello from fishhook.", "model": "s1", "format": "mp3"}
    )
    assert answer.status_code == 202
    done = await wait_finished(api, answer.json()["id"])
    assert done["status"] == "succeeded"
    audio_url = done["output"]["audio_url"]
    assert audio_url.startswith(f"{str(sim.base_url).rstrip('/')}/media/task/")
    audio = await sim.get(audio_url)  # the simulator serves real audio at the URL it gave
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.content.startswith(b"RIFF") and audio.content[8:12] == b"WAVE"
    [sent] = (await sim.get("/_sim/requests")).json()["items"]
    assert sent["path"] == "/fish/tts"
    assert sent["headers"]["model"] == "s1"
    assert "model" not in sent["body"]


async def test_failure_callback_fails_the_task_with_acedatas_error(api, sim):
    rule = {"endpoint": "/fish/voices", "times": 1, "callback": {"mode": "failure"}}
    assert (await sim.post("/_sim/rules", json=rule)).status_code == 200
    answer = await api.post("/v1/voices", json={"voice_url": "https://cdn.example.com/broken.mp3"})
    done = await wait_finished(api, answer.json()["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "bad_request"
    assert done["error"]["message"]


async def test_duplicate_callbacks_finish_the_task_once(api, sim):
    rule = {"endpoint": "/fish/tts", "times": 1, "callback": {"mode": "duplicate", "copies": 3}}
    await sim.post("/_sim/rules", json=rule)
    task = (await api.post("/v1/speech", json={"text": "twice"})).json()
    done = await wait_finished(api, task["id"])
    await asyncio.sleep(0.3)
    again = (await api.get(f"/v1/tasks/{task['id']}")).json()
    assert again.pop("deliveries") == 3
    # The archive copies the audio in the background: its state may move on, the task not.
    again.pop("archive")
    assert again == {k: v for k, v in done.items() if k not in ("deliveries", "archive")}
    attempts = (await sim.get("/_sim/callbacks")).json()["items"]
    assert [a["status"] for a in attempts] == [200, 200, 200]


async def test_acedata_refusal_reaches_the_client_as_problem_json(api, sim):
    rule = {
        "endpoint": "/fish/voices",
        "times": 1,
        "respond": {"status": 403, "body": fixture("error_used_up")},
    }
    await sim.post("/_sim/rules", json=rule)
    answer = await api.post("/v1/voices", json={"voice_url": "https://cdn.example.com/a.mp3"})
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "used_up"
    [task] = (await api.get("/v1/tasks")).json()["items"]
    assert task["status"] == "failed"
    assert task["error"]["code"] == "used_up"
