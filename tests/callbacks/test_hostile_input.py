"""Callbacks from a hostile or careless client: they cannot slow or fail other callbacks, leak
the credential into the log, or be told a misleading reason."""

import asyncio
import secrets

import pytest

from app.callbacks import service
from app.callbacks.batch import apply_batch
from app.callbacks.service import MAX_TASK_ID, Inbound
from tests.support.api import callback_path, logged, post_callback, read, submit
from tests.support.api import tts_success as success


def _inbound(body: bytes) -> Inbound:
    return Inbound(
        source="callback", method="POST", query="", headers={}, body=body, body_size=len(body)
    )


async def test_a_multi_kb_task_id_never_reaches_the_shared_statement(engine):
    """One statement carries many callbacks: a task_id too large for the index must not fail
    it (every honest callback of the batch would then be retried one by one)."""
    hostile = service.to_row(
        _inbound(b'{"task_id": "%s"}' % secrets.token_hex(2500).encode()),
        task_ref=None,
        authenticated=False,
    )
    honest = service.to_row(
        _inbound(b'{"task_id": "abc", "audio_url": "https://x.example/a.mp3"}'),
        task_ref=None,
        authenticated=False,
    )
    async with engine.begin() as conn:
        outcomes = await apply_batch(conn, [hostile, honest])
    assert outcomes[hostile.id].outcome == "unauthenticated"
    assert outcomes[honest.id].outcome == "unauthenticated"
    assert hostile.task_id is None
    assert honest.task_id == "abc"


async def test_an_oversized_task_id_with_a_valid_credential_is_400_and_logged(client):
    task = await submit(client, "speech")
    answer = await post_callback(client, task["id"], success("B" * (MAX_TASK_ID + 1)))
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_body"
    assert f"longer than {MAX_TASK_ID}" in answer.json()["detail"]
    assert (await read(client, task["id"]))["status"] == "submitted"


async def test_honest_callbacks_succeed_among_oversized_ones(client):
    tasks = [await submit(client, "speech") for _ in range(5)]
    hostile = [
        client.post("/callbacks", json={"task_id": secrets.token_hex(4000)}) for n in range(20)
    ]
    honest = [post_callback(client, t["id"], success(t["task_id"])) for t in tasks]
    answers = await asyncio.gather(*hostile, *honest)
    assert [a.status_code for a in answers[:20]] == [401] * 20
    assert [a.json()["outcome"] for a in answers[20:]] == ["applied"] * 5


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"1e400"])
async def test_a_number_jsonb_cannot_hold_is_refused_as_invalid(client, number):
    task = await submit(client, "speech")
    body = b'{"task_id": "%s", "audio_url": "https://x.example/a.mp3", "n": %s}' % (
        task["task_id"].encode(),
        number,
    )
    answer = await post_callback(client, task["id"], body)
    assert answer.status_code == 400
    assert (await read(client, task["id"]))["status"] == "submitted"


@pytest.mark.parametrize(
    "header",
    ["x-original-uri", "x-forwarded-uri", "referer", "x-rewrite-url", "x-envoy-original-path"],
)
async def test_the_credential_is_redacted_in_any_header_that_carries_the_url(client, header):
    task = await submit(client, "speech")
    path = callback_path(task["id"])
    token = path.split("token=")[1]
    answer = await post_callback(
        client,
        task["id"],
        success(task["task_id"]),
        headers={header: f"https://hooks.example.com{path}", "x-copy": f"was {token} here"},
    )
    assert answer.json()["outcome"] == "applied"
    stored = await logged(client, answer.json()["delivery_id"])
    assert token not in str(stored)
    assert "token=[redacted]" in stored["headers"][header]
    assert stored["headers"]["x-copy"] == "was [redacted] here"


async def test_a_wrong_token_is_redacted_in_headers_too(client):
    task = await submit(client, "speech")
    guess = "guessedtoken-0123456789abcdef"
    answer = await client.post(
        f"/callbacks?task={task['id']}&token={guess}",
        json=success(task["task_id"]),
        headers={"x-original-uri": f"/callbacks?task={task['id']}&token%3D{guess}"},
    )
    stored = await logged(client, answer.json()["delivery_id"])
    assert guess not in str(stored)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "no callback credential"),
        ("?task={ref}", "has no token"),
        ("?token=abcdefgh", "has a token but no task"),
        ("?task={ref}&token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "is not the credential of task"),
    ],
)
async def test_a_refused_credential_is_logged_with_what_actually_happened(client, query, reason):
    task = await submit(client, "speech")
    answer = await client.post(
        "/callbacks" + query.format(ref=task["id"]), json=success(task["task_id"])
    )
    assert answer.status_code == 401
    assert reason in answer.json()["detail"]
    stored = await logged(client, answer.json()["delivery_id"])
    assert stored["outcome"] == "unauthenticated"
    assert reason in stored["detail"]
    assert "another task_id" not in stored["detail"]


async def test_a_valid_credential_with_another_tasks_task_id_still_says_so(client):
    mine = await submit(client, "speech")
    theirs = await submit(client, "speech")
    answer = await post_callback(client, mine["id"], success(theirs["task_id"]))
    assert answer.status_code == 401
    assert "another task_id" in answer.json()["detail"]
