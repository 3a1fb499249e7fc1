"""POST /fish/tasks: task records while running and once finished, and batches."""

from tests.support.fixtures import fixture
from tests.support.polling import eventually
from tests.support.simulator import HOOK, SimEnv

TTS_REQUEST = {**fixture("tts_submit_request"), "callback_url": HOOK}


async def test_running_task_record_has_no_finished_at(sim: SimEnv) -> None:
    await sim.add_rule({"endpoint": "/fish/tts", "callback": {"mode": "never"}})
    task_id = (await sim.fish("/fish/tts", TTS_REQUEST)).json()["task_id"]

    record = (await sim.retrieve(task_id)).json()

    assert record.keys() == fixture("tasks_retrieve_running").keys() | {"trace_id"}
    assert (record["id"], record["type"], record["response"]) == (task_id, "fish_tts", None)
    assert record["request"] == TTS_REQUEST
    assert isinstance(record["created_at"], float) and isinstance(record["started_at"], float)


async def test_finished_task_record_carries_the_callback_body(sim: SimEnv) -> None:
    voice = {**fixture("voices_submit_request"), "callback_url": HOOK}
    task_id = (await sim.fish("/fish/voices", voice)).json()["task_id"]
    await eventually(lambda: len(sim.receiver.received) == 1)

    record = (await sim.retrieve(task_id)).json()

    assert record["type"] == "voices"
    assert record["response"] == sim.receiver.received[0].json()
    assert record["finished_at"] >= record["started_at"]
    assert record["elapsed"] >= 0
    assert record["trace_id"] == record["response"]["trace_id"]


async def test_retrieve_unknown_id_is_not_found(sim: SimEnv) -> None:
    response = await sim.retrieve("00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == "not_found"


async def test_retrieve_batch_returns_known_ids_only(sim: SimEnv) -> None:
    first = (await sim.fish("/fish/tts", TTS_REQUEST)).json()["task_id"]
    second = (await sim.fish("/fish/tts", TTS_REQUEST)).json()["task_id"]

    response = await sim.fish(
        "/fish/tasks", {"action": "retrieve_batch", "ids": [first, "unknown", second]}
    )

    assert response.status_code == 200
    assert response.json().keys() == fixture("tasks_retrieve_batch").keys()
    assert [item["id"] for item in response.json()["items"]] == [first, second]
    assert response.json()["count"] == 2


async def test_retrieve_batch_over_50_ids_is_bad_request(sim: SimEnv) -> None:
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(51)]

    response = await sim.fish("/fish/tasks", {"action": "retrieve_batch", "ids": ids})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


async def test_unknown_tasks_action_is_bad_request(sim: SimEnv) -> None:
    response = await sim.fish("/fish/tasks", {"action": "delete", "id": "x"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
