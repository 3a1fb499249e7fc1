"""POST /fish/tasks from fishhook's store, in AceData's task-record shape, and the relay of a
/fish task's result in AceData's shape."""

from tests.support.api import post_callback
from tests.support.dropin import accepted_task
from tests.support.fixtures import fixture
from tests.support.relay import relays_when, settled

RECORD_KEYS = set(fixture("tasks_retrieve_running")) | {"trace_id"}


async def async_tts(client, **fields) -> str:
    answer = await client.post("/fish/tts", json={"text": "Hi.", "async": True, **fields})
    assert answer.status_code == 200, answer.text
    task_id: str = answer.json()["task_id"]
    return task_id


async def retrieve(client, task_id: str):
    return await client.post("/fish/tasks", json={"action": "retrieve", "id": task_id})


async def test_running_task_has_no_finished_at_and_a_null_response(client):
    task_id = await async_tts(client, format="wav")

    record = (await retrieve(client, task_id)).json()

    assert record.keys() == RECORD_KEYS
    assert (record["id"], record["type"], record["response"]) == (task_id, "fish_tts", None)
    assert record["request"] == {"text": "Hi.", "format": "wav"}
    assert isinstance(record["created_at"], float)


async def test_finished_task_shows_the_callback_body_as_response(client):
    task_id = await async_tts(client)
    task = await accepted_task(client)
    body = {**fixture("tts_callback_success"), "task_id": task_id}
    await post_callback(client, task["id"], body)

    record = (await retrieve(client, task_id)).json()
    batch = await client.post(
        "/fish/tasks", json={"action": "retrieve_batch", "ids": [task_id, "unknown", task_id]}
    )

    assert record["response"] == body
    assert record["finished_at"] >= record["created_at"] and record["elapsed"] >= 0
    assert batch.json() == {"items": [record], "count": 1}


async def test_unknown_id_is_answered_as_acedata_answers_it(client):
    answer = await retrieve(client, "79d82713-2897-4eeb-9934-e7544d471aa7")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


async def test_bad_queries_are_bad_requests(client):
    for body in (
        {"action": "retrieve"},
        {"action": "retrieve_batch", "ids": "x"},
        {"action": "retrieve_batch", "ids": [str(i) for i in range(51)]},
        {"action": "delete", "id": "x"},
    ):
        answer = await client.post("/fish/tasks", json=body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "bad_request")


async def test_refused_submit_with_callback_url_relays_nothing(client, acedata, receiver):
    acedata.answer("/fish/tts", 400, fixture("error_bad_request"))

    answer = await client.post("/fish/tts", json={"text": "Hi.", "callback_url": receiver.url})

    assert answer.status_code == 400
    task = (await client.get("/v1/tasks")).json()["items"][0]
    [message] = await relays_when(client, task["id"], settled)
    assert message["status"] == "dead" and message["last_error"].startswith("not sent")
    assert receiver.received == []
