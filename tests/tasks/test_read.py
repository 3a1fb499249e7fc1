import pytest
from pydantic import SecretStr

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


async def test_a_plain_read_answers_as_the_routed_one_does(app, client, settings):
    # Without a query string the read is served outside FastAPI's routing (main.Fishhook):
    # the same body, the same problems, the same API keys.
    task = await submit(client, "speech")
    for ref in (task["id"], task["task_id"]):
        plain = await client.get(f"/v1/tasks/{ref}")
        routed = await client.get(f"/v1/tasks/{ref}", params={"wait": 0})
        assert plain.status_code == routed.status_code == 200
        assert plain.json() == routed.json()
        assert plain.headers["content-type"] == routed.headers["content-type"]
    plain_404, routed_404 = [await client.get("/v1/tasks/tsk_nothing" + q) for q in ("", "?wait=0")]
    assert plain_404.status_code == routed_404.status_code == 404
    assert plain_404.json() == routed_404.json()

    settings.api_keys = [SecretStr("key-one")]
    for q in ("", "?wait=0"):
        refused = await client.get(f"/v1/tasks/{task['id']}{q}")
        assert refused.status_code == 401, q
        assert refused.json()["code"] == "invalid_api_key"
        assert refused.headers["www-authenticate"] == "Bearer"
        allowed = await client.get(
            f"/v1/tasks/{task['id']}{q}", headers={"authorization": "Bearer key-one"}
        )
        assert allowed.status_code == 200, q
