import pytest

from tests.support.api import post_callback, submit


async def test_unknown_task_is_404_problem(client):
    answer = await client.get("/v1/tasks/tsk_nothing")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "task_not_found"


async def test_list_is_newest_first_and_pages_with_a_cursor(client):
    ids = [(await submit(client))["id"] for _ in range(5)]
    first = (await client.get("/v1/tasks", params={"limit": 2})).json()
    assert [t["id"] for t in first["items"]] == ids[::-1][:2]
    second = (
        await client.get("/v1/tasks", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [t["id"] for t in second["items"]] == ids[::-1][2:4]
    third = (
        await client.get("/v1/tasks", params={"limit": 2, "cursor": second["next_cursor"]})
    ).json()
    assert [t["id"] for t in third["items"]] == ids[:1]
    assert third["next_cursor"] is None


async def test_paging_is_stable_when_tasks_arrive_between_pages(client):
    ids = [(await submit(client))["id"] for _ in range(4)]
    first = (await client.get("/v1/tasks", params={"limit": 2})).json()
    await submit(client)
    await submit(client)
    rest = (
        await client.get("/v1/tasks", params={"limit": 10, "cursor": first["next_cursor"]})
    ).json()
    seen = [t["id"] for t in first["items"] + rest["items"]]
    assert seen == ids[::-1]


async def test_list_filters_by_status_and_kind(client):
    voice = await submit(client)
    speech = await submit(client, "speech")
    body = {"task_id": speech["task_id"], "audio_url": "https://a.example/x.mp3"}
    await post_callback(client, speech["id"], body)

    def ids(answer):
        return [t["id"] for t in answer.json()["items"]]

    assert ids(await client.get("/v1/tasks", params={"status": "succeeded"})) == [speech["id"]]
    assert ids(await client.get("/v1/tasks", params={"kind": "voice"})) == [voice["id"]]
    assert ids(await client.get("/v1/tasks", params={"kind": "voice", "status": "succeeded"})) == []


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"status": "done"}, {"kind": "music"}],
)
async def test_bad_list_parameters_are_422(client, params):
    answer = await client.get("/v1/tasks", params=params)
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"


async def test_foreign_cursor_is_400(client):
    answer = await client.get("/v1/tasks", params={"cursor": "%%%not-ours"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_cursor"
