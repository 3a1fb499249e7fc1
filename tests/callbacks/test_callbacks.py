import asyncio
import copy
import json

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.ids import new_id
from tests.support.api import callback_path, post_callback, read, state, submit
from tests.support.fixtures import fixture


def shaped(name: str, task_id: str) -> dict:
    body = copy.deepcopy(fixture(name))
    body["task_id"] = task_id
    return body


@pytest.mark.parametrize(
    ("kind", "name", "status", "expected"),
    [
        (
            "voice",
            "voices_callback_success",
            "succeeded",
            {"voice_id": "fa75e7c3f02f42e79a6aa622b6cf075e"},
        ),
        (
            "speech",
            "tts_callback_success",
            "succeeded",
            {
                "audio_url": "https://platform.r2.fish.audio/task/b627c2f7d38a4083a837570ba6d0962f.mp3"
            },
        ),
        (
            "speech",
            "audios_callback_success",
            "succeeded",
            {
                "audio_url": "https://platform.r2.fish.audio/task/b627c2f7d38a4083a837570ba6d0962f.mp3"
            },
        ),
        (
            "voice",
            "callback_failure",
            "failed",
            {"code": "bad_request", "message": "voice_url could not be downloaded"},
        ),
        (
            "voice",
            "callback_failure_string_error",
            "failed",
            {"code": "upstream_error", "message": "upstream timeout"},
        ),
        ("speech", "tts_callback_failure", "failed", {"code": "bad_request"}),
    ],
)
async def test_every_fixture_callback_finishes_the_task_as_documented(
    client, kind, name, status, expected
):
    task = await submit(client, kind)
    body = shaped(name, task["task_id"])
    answer = await post_callback(client, task["id"], body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"

    done = await read(client, task["id"])
    assert done["status"] == status
    assert done["result"] == body
    assert done["finished_at"] is not None
    found = done["output"] if status == "succeeded" else done["error"]
    assert expected.items() <= found.items()
    if body.get("trace_id"):
        assert done["trace_id"] == body["trace_id"]


async def test_voice_output_keeps_the_voice_details(client):
    task = await submit(client)
    await post_callback(client, task["id"], shaped("voices_callback_success", task["task_id"]))
    output = (await read(client, task["id"]))["output"]
    assert output["title"] == "test"
    assert output["state"] == "trained"
    assert output["train_mode"] == "fast"


async def test_task_can_be_read_by_acedata_task_id(client):
    task = await submit(client)
    assert (await read(client, task["task_id"]))["id"] == task["id"]


async def test_callback_that_beats_acedatas_answer_still_finishes_the_task(client, acedata):
    task_id = "9f626a13-96ec-4dec-8846-dc5aab7362a8"
    early: list = []

    async def callback_first(request):
        url = json.loads(request.content)["callback_url"]
        ref = url.split("task=")[1].split("&")[0]
        early.append(await post_callback(client, ref, shaped("voices_callback_success", task_id)))

    acedata.before_answer = callback_first
    acedata.answer("/fish/voices", 200, {"task_id": task_id})
    task = await submit(client)

    assert early[0].json()["outcome"] == "applied"
    assert task["status"] == "succeeded"
    assert task["task_id"] == task_id
    assert task["output"]["voice_id"] == "fa75e7c3f02f42e79a6aa622b6cf075e"


async def test_duplicate_callback_changes_nothing(client):
    task = await submit(client)
    body = shaped("voices_callback_success", task["task_id"])
    await post_callback(client, task["id"], body)
    first = await state(client, task["id"])

    again = await post_callback(client, task["id"], body)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert await state(client, task["id"]) == first


async def test_later_different_callback_is_late_and_first_result_wins(client):
    task = await submit(client)
    await post_callback(client, task["id"], shaped("voices_callback_success", task["task_id"]))
    first = await state(client, task["id"])

    later = await post_callback(client, task["id"], shaped("callback_failure", task["task_id"]))
    assert later.json()["outcome"] == "late"
    assert await state(client, task["id"]) == first


async def test_result_after_expiry_is_still_applied(client, database_url):
    task = await submit(client)
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE tasks SET status = 'expired' WHERE id = :id"), {"id": task["id"]}
        )
    await engine.dispose()

    answer = await post_callback(
        client, task["id"], shaped("tts_callback_success", task["task_id"])
    )
    assert answer.json()["outcome"] == "applied"
    assert (await read(client, task["id"]))["status"] == "succeeded"


@pytest.mark.parametrize(
    "path",
    [
        "/callbacks",
        "/callbacks?task={ref}",
        "/callbacks?task={ref}&token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/callbacks?task={ref}&token={other_token}",
    ],
)
async def test_forged_callback_is_401_and_changes_nothing(client, path):
    task = await submit(client)
    other = await submit(client)
    other_token = callback_path(other["id"]).split("token=")[1]
    url = path.format(ref=task["id"], other_token=other_token)
    before = await state(client, task["id"])

    answer = await client.post(url, json=shaped("voices_callback_success", task["task_id"]))
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "invalid_credential"
    assert await state(client, task["id"]) == before


async def test_credential_of_one_task_with_another_tasks_task_id_is_401(client):
    mine = await submit(client)
    theirs = await submit(client)
    answer = await post_callback(
        client, mine["id"], shaped("tts_callback_success", theirs["task_id"])
    )
    assert answer.status_code == 401
    assert (await read(client, mine["id"]))["status"] == "submitted"
    assert (await read(client, theirs["id"]))["status"] == "submitted"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"success": true}',
        b'{"task_id": 42}',
        b"\xff\xfe{",
        b'{"task_id": "x"',
    ],
)
async def test_unreadable_callback_is_400_and_changes_nothing(client, body):
    task = await submit(client)
    answer = await post_callback(client, task["id"], body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_body"
    assert (await read(client, task["id"]))["status"] == "submitted"


async def test_callback_for_unknown_task_is_404(client):
    answer = await post_callback(client, new_id("tsk"), shaped("tts_callback_success", "nope"))
    assert answer.status_code == 404
    assert answer.json()["code"] == "unknown_task"


async def test_oversized_callback_is_413(client, settings):
    task = await submit(client)
    body = b'{"task_id": "' + b"x" * settings.max_body_bytes + b'"}'
    answer = await post_callback(client, task["id"], body)
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"
    assert (await read(client, task["id"]))["status"] == "submitted"


async def test_fifty_concurrent_copies_apply_once(client):
    task = await submit(client)
    body = shaped("voices_callback_success", task["task_id"])
    answers = await asyncio.gather(*(post_callback(client, task["id"], body) for _ in range(50)))
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes == ["applied"] + ["duplicate"] * 49


async def test_callbacks_only_take_post(client):
    answer = await client.get("/callbacks")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "method_not_allowed"


def test_live_callbacks_and_replays_read_a_repeated_task_parameter_alike():
    from app.callbacks import credentials
    from app.callbacks.redaction import query_pairs, redact_query
    from app.deliveries.service import _task_param

    query = "task=tsk_first&task=tsk_last&token=t0k"
    assert credentials.read(query_pairs(query)) == ("tsk_last", "t0k")
    # A replay reads the stored, redacted query: it must name the task the live check used.
    assert _task_param(redact_query(query)) == "tsk_last"
