"""Scripted faults: answers, delays, and lost, duplicate, failed or never-sent callbacks."""

import asyncio

from tests.support.fixtures import fixture
from tests.support.polling import eventually
from tests.support.simulator import HOOK, SimEnv

VOICE_REQUEST = {**fixture("voices_submit_request"), "callback_url": HOOK}
TTS_REQUEST = {**fixture("tts_submit_request"), "callback_url": HOOK}


async def test_scripted_429_is_answered_once_then_normal(sim: SimEnv) -> None:
    limited = fixture("error_too_many_requests")
    await sim.add_rule(
        {
            "endpoint": "/fish/voices",
            "times": 1,
            "respond": {"status": 429, "body": limited, "headers": {"retry-after": "1"}},
        }
    )

    first = await sim.fish("/fish/voices", VOICE_REQUEST)
    second = await sim.fish("/fish/voices", VOICE_REQUEST)

    assert (first.status_code, first.json(), first.headers["retry-after"]) == (429, limited, "1")
    assert second.status_code == 200
    assert [job["id"] for job in await sim.listing("jobs")] == [second.json()["task_id"]]
    assert (await sim.listing("rules"))[0]["times"] == 0


async def test_rule_for_another_endpoint_does_not_apply(sim: SimEnv) -> None:
    await sim.add_rule({"endpoint": "/fish/tts", "respond": {"status": 500, "body": {}}})

    response = await sim.fish("/fish/voices", VOICE_REQUEST)

    assert response.status_code == 200


async def test_scripted_text_answer_is_sent_raw(sim: SimEnv) -> None:
    await sim.add_rule({"respond": {"status": 502, "text": "<html>Bad Gateway</html>"}})

    response = await sim.fish("/fish/tts", TTS_REQUEST)

    assert (response.status_code, response.text) == (502, "<html>Bad Gateway</html>")


async def test_delayed_answer_can_arrive_after_the_callback(sim: SimEnv) -> None:
    await sim.add_rule({"endpoint": "/fish/tts", "times": 1, "delay": 0.5})

    submit = asyncio.create_task(sim.fish("/fish/tts", TTS_REQUEST))
    await eventually(lambda: len(sim.receiver.received) == 1)

    assert not submit.done()
    assert (await submit).json()["task_id"] == sim.receiver.received[0].json()["task_id"]


async def test_lost_callback_still_finishes_task_for_retrieve(sim: SimEnv) -> None:
    await sim.add_rule({"endpoint": "/fish/voices", "callback": {"mode": "lost"}})
    task_id = (await sim.fish("/fish/voices", VOICE_REQUEST)).json()["task_id"]

    await eventually(sim.all_jobs_finished)
    record = (await sim.retrieve(task_id)).json()

    assert record["response"]["success"] is True
    assert record["response"]["task_id"] == task_id
    assert sim.receiver.received == []
    assert await sim.listing("callbacks") == []


async def test_duplicate_mode_posts_twice(sim: SimEnv) -> None:
    await sim.add_rule({"callback": {"mode": "duplicate"}})
    task_id = (await sim.fish("/fish/tts", TTS_REQUEST)).json()["task_id"]

    await eventually(lambda: len(sim.receiver.received) == 2)
    await asyncio.sleep(0.05)

    assert len(sim.receiver.received) == 2
    assert sim.receiver.received[0].json() == sim.receiver.received[1].json()
    assert sim.receiver.received[0].json()["task_id"] == task_id


async def test_duplicate_mode_posts_the_scripted_number_of_copies(sim: SimEnv) -> None:
    await sim.add_rule({"callback": {"mode": "duplicate", "copies": 3}})
    await sim.fish("/fish/tts", TTS_REQUEST)

    await eventually(lambda: len(sim.receiver.received) == 3)


async def test_failure_mode_posts_failure_body_for_voices(sim: SimEnv) -> None:
    await sim.add_rule({"callback": {"mode": "failure"}})
    task_id = (await sim.fish("/fish/voices", VOICE_REQUEST)).json()["task_id"]

    await eventually(lambda: len(sim.receiver.received) == 1)
    body = sim.receiver.received[0].json()

    assert body.keys() == fixture("callback_failure").keys()
    assert (body["success"], body["task_id"], body["error"]["code"]) == (
        False,
        task_id,
        "bad_request",
    )


async def test_failure_mode_posts_status_400_body_for_tts(sim: SimEnv) -> None:
    await sim.add_rule({"callback": {"mode": "failure"}})
    task_id = (await sim.fish("/fish/tts", TTS_REQUEST)).json()["task_id"]

    await eventually(lambda: len(sim.receiver.received) == 1)
    body = sim.receiver.received[0].json()

    assert body.keys() == fixture("tts_callback_failure").keys()
    assert (body["status"], body["task_id"]) == (400, task_id)


async def test_scripted_callback_body_gets_the_task_id_filled_in(sim: SimEnv) -> None:
    await sim.add_rule({"callback": {"body": {"error": "upstream timeout"}}})
    task_id = (await sim.fish("/fish/voices", VOICE_REQUEST)).json()["task_id"]

    await eventually(lambda: len(sim.receiver.received) == 1)

    assert sim.receiver.received[0].json() == {"error": "upstream timeout", "task_id": task_id}


async def test_callback_rule_is_not_used_up_by_task_queries(sim: SimEnv) -> None:
    await sim.add_rule({"times": 1, "callback": {"mode": "lost"}})
    await sim.retrieve("00000000-0000-4000-8000-000000000000")

    await sim.fish("/fish/tts", TTS_REQUEST)
    second = (await sim.fish("/fish/tts", TTS_REQUEST)).json()["task_id"]

    await eventually(sim.all_jobs_finished)
    await eventually(lambda: len(sim.receiver.received) == 1)

    assert sim.receiver.received[0].json()["task_id"] == second


async def test_never_mode_without_callback_url_times_out(sim: SimEnv) -> None:
    await sim.add_rule({"callback": {"mode": "never"}})
    sync_request = {key: value for key, value in TTS_REQUEST.items() if key != "callback_url"}

    response = await sim.fish("/fish/tts", sync_request)

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"


async def test_rule_with_unknown_field_is_refused(sim: SimEnv) -> None:
    response = await sim.client.post("/_sim/rules", json={"endpoint": "*", "respnd": {}})

    assert response.status_code == 422
    assert await sim.listing("rules") == []


async def test_deleting_rules_restores_normal_behaviour(sim: SimEnv) -> None:
    await sim.add_rule({"respond": {"status": 500, "body": fixture("error_api_error")}})
    await sim.client.delete("/_sim/rules")

    response = await sim.fish("/fish/tts", TTS_REQUEST)

    assert response.status_code == 200
