"""The deliveries log over HTTP: list, filters, paging, one delivery byte for byte, replay, counts."""

import base64
import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.api import callback_path, post_callback, read, state, submit
from tests.support.fixtures import fixture


def shaped(name: str, task_id: str) -> dict:
    body = copy.deepcopy(fixture(name))
    body["task_id"] = task_id
    return body


async def sql(database_url: str, statement: str, **params: object) -> None:
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text(statement), params)
    await engine.dispose()


async def test_every_callback_is_listed_newest_first_with_its_outcome(client):
    task = await submit(client)
    body = shaped("voices_callback_success", task["task_id"])
    first = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    second = (await post_callback(client, task["id"], body)).json()["delivery_id"]
    forged = await client.post(f"/callbacks?task={task['id']}&token=nope", json=body)

    page = (await client.get("/v1/deliveries")).json()
    assert [d["outcome"] for d in page["items"]] == ["unauthenticated", "duplicate", "applied"]
    assert [d["id"] for d in page["items"]][1:] == [second, first]
    assert page["items"][0]["id"] == forged.json()["delivery_id"]
    assert page["next_cursor"] is None
    applied = page["items"][2]
    assert applied["task_ref"] == task["id"]
    assert applied["task_id"] == task["task_id"]
    assert applied["source"] == "callback"
    assert applied["method"] == "POST"
    assert applied["remote_addr"]
    assert "nope" not in page["items"][0]["query"]


async def test_filters_by_either_task_id_outcome_and_time(client):
    mine = await submit(client)
    other = await submit(client)
    await post_callback(client, mine["id"], shaped("tts_callback_success", mine["task_id"]))
    await post_callback(client, mine["id"], b"not json")
    await post_callback(client, other["id"], shaped("tts_callback_success", other["task_id"]))

    by_ref = (await client.get("/v1/deliveries", params={"task_id": mine["id"]})).json()
    by_acedata = (await client.get("/v1/deliveries", params={"task_id": mine["task_id"]})).json()
    assert len(by_ref["items"]) == 2
    # The unreadable body names no AceData id, so only the applied one matches that way.
    assert [d["outcome"] for d in by_acedata["items"]] == ["applied"]

    invalid = (await client.get("/v1/deliveries", params={"outcome": "invalid"})).json()
    assert [d["task_ref"] for d in invalid["items"]] == [mine["id"]]

    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert (await client.get("/v1/deliveries", params={"since": future})).json()["items"] == []
    assert len((await client.get("/v1/deliveries", params={"until": future})).json()["items"]) == 3
    assert len((await client.get("/v1/deliveries", params={"since": past})).json()["items"]) == 3

    bad = await client.get("/v1/deliveries", params={"outcome": "exploded"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_pages_never_repeat_or_skip(client):
    task = await submit(client)
    for _ in range(7):
        await post_callback(client, task["id"], b"{}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/deliveries", params=params)).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


async def test_one_delivery_returns_the_raw_body_byte_for_byte(client):
    task = await submit(client)
    raw = (
        b'{ "task_id" :"%s",\n  "audio_url":"https://x.test/a.mp3", "note": "caf\xc3\xa9 \\u00e9" }'
        % task["task_id"].encode()
    )
    answer = await post_callback(client, task["id"], raw, headers={"cookie": "session=secret"})
    delivery = (await client.get(f"/v1/deliveries/{answer.json()['delivery_id']}")).json()
    assert delivery["body"].encode("utf-8") == raw
    assert delivery["body_base64"] is None
    assert delivery["body_size"] == len(raw)
    assert delivery["outcome"] == "applied"
    assert delivery["headers"]["content-type"] == "application/json"
    assert delivery["headers"]["cookie"] == "[redacted]"
    assert "token=" not in delivery["query"] or "token=%5Bredacted%5D" in delivery["query"]
    token = callback_path(task["id"]).split("token=")[1]
    assert token not in str(delivery)


async def test_a_body_that_is_not_utf8_comes_back_as_base64(client):
    task = await submit(client)
    raw = b'{"task_id": "\xff\xfe"}'
    answer = await post_callback(client, task["id"], raw)
    assert answer.status_code == 400
    delivery = (await client.get(f"/v1/deliveries/{answer.json()['delivery_id']}")).json()
    assert delivery["body"] is None
    assert base64.b64decode(delivery["body_base64"]) == raw
    assert delivery["outcome"] == "invalid"


async def test_unknown_delivery_is_404_problem(client):
    answer = await client.get("/v1/deliveries/dlv_nope")
    assert answer.status_code == 404
    assert answer.json()["code"] == "delivery_not_found"
    assert (await client.post("/v1/deliveries/dlv_nope/replay")).status_code == 404


async def test_task_says_how_many_deliveries_it_has(client):
    task = await submit(client)
    assert (await read(client, task["id"]))["deliveries"] == 0
    body = shaped("voices_callback_success", task["task_id"])
    await post_callback(client, task["id"], body)
    await post_callback(client, task["id"], body)
    assert (await read(client, task["id"]))["deliveries"] == 2
    listed = (await client.get("/v1/tasks")).json()["items"]
    assert listed[0]["deliveries"] == 2


async def test_replay_recovers_a_callback_that_was_rejected(client, database_url):
    task = await submit(client)
    body = shaped("tts_callback_success", task["task_id"])
    answer = await post_callback(client, task["id"], body)
    delivery_id = answer.json()["delivery_id"]
    # As if a bug had rejected it: the delivery is kept, the task never finished.
    await sql(
        database_url,
        "UPDATE tasks SET status = 'submitted', result = NULL, output = NULL, finished_at = NULL",
    )
    await sql(database_url, "UPDATE deliveries SET outcome = 'invalid'")

    replayed = await client.post(f"/v1/deliveries/{delivery_id}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["outcome"] == "applied"
    assert replayed.json()["replay_of"] == delivery_id
    done = await read(client, task["id"])
    assert done["status"] == "succeeded"
    assert done["result"] == body

    new = (await client.get(f"/v1/deliveries/{replayed.json()['delivery_id']}")).json()
    assert new["source"] == "replay"
    assert new["replay_of"] == delivery_id
    assert new["body"] == (await client.get(f"/v1/deliveries/{delivery_id}")).json()["body"]


async def test_replaying_an_applied_delivery_changes_nothing(client):
    task = await submit(client)
    answer = await post_callback(
        client, task["id"], shaped("tts_callback_success", task["task_id"])
    )
    before = await state(client, task["id"])
    replayed = await client.post(f"/v1/deliveries/{answer.json()['delivery_id']}/replay")
    assert replayed.json()["outcome"] == "duplicate"
    assert await state(client, task["id"]) == before


async def test_a_forged_delivery_cannot_be_replayed_into_a_result(client):
    task = await submit(client)
    body = shaped("tts_callback_success", task["task_id"])
    forged = await client.post(f"/callbacks?task={task['id']}&token=guess", json=body)
    replayed = await client.post(f"/v1/deliveries/{forged.json()['delivery_id']}/replay")
    assert replayed.status_code == 409
    assert replayed.json()["code"] == "replay_refused"
    assert (await read(client, task["id"]))["status"] == "submitted"


async def test_time_filters_take_naive_times_and_refuse_garbage(client):
    task = await submit(client)
    await post_callback(client, task["id"], b"{}")
    past = (datetime.now(UTC) - timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    answer = await client.get("/v1/deliveries", params={"since": past})
    assert answer.status_code == 200
    assert len(answer.json()["items"]) == 1
    bad = await client.get("/v1/deliveries", params={"since": "yesterday-ish"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"


@pytest.mark.parametrize("value", ["18", "1764460800", "1764460800.5", "-1", "1e9"])
async def test_time_filters_refuse_numbers(client, value):
    for name in ("since", "until"):
        answer = await client.get("/v1/deliveries", params={name: value})
        assert answer.status_code == 422, (name, value)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "ISO 8601" in answer.json()["detail"]


@pytest.mark.parametrize(
    "value", ["2026-11-30", "2026-11-30T12:00:00Z", "2026-11-30T12:00:00+02:00", "20261130T1200Z"]
)
async def test_time_filters_take_iso_8601_dates_and_times(client, value):
    answer = await client.get("/v1/deliveries", params={"until": value})
    assert answer.status_code == 200, answer.text


async def test_the_list_reads_neither_headers_nor_bodies(app, client):
    """A page of summaries must not pull every row's headers and body out of PostgreSQL."""
    task = await submit(client)
    await post_callback(client, task["id"], b"{}", headers={"x-big": "y" * 20_000})
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        answer = await client.get("/v1/deliveries")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert answer.status_code == 200
    assert len(answer.json()["items"]) == 1
    listing = [s for s in statements if "FROM deliveries" in s]
    assert listing
    assert not any("deliveries.headers" in s or "deliveries.body," in s for s in listing)
