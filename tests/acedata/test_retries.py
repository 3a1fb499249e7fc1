"""What the client notices when AceData errs: each code's answer, retries, and lost answers."""

import time

import httpx
import pytest

from tests.support.api import VOICE, post_callback, read
from tests.support.fixtures import fixture

ALL_CODES = [
    # (AceData's HTTP status, its code, fishhook's answer, retried?)
    (400, "bad_request", 400, False),
    (403, "forbidden", 403, False),
    (413, "request_too_large", 413, False),
    (400, "no_token", 502, False),
    (400, "token_mismatched", 502, False),
    (400, "api_not_implemented", 502, False),
    (400, "disabled", 502, False),
    (401, "invalid_token", 502, False),
    (401, "token_expired", 502, False),
    (403, "used_up", 502, False),
    (404, "no_api", 502, False),
    (429, "too_many_requests", 503, True),
    (500, "api_error", 502, True),
    (500, "busy", 502, True),
    (504, "timeout", 504, True),
]


def error_body(code: str) -> dict:
    return {
        "success": False,
        "error": {"code": code, "message": f"AceData says {code}"},
        "trace_id": "trace-" + code,
    }


@pytest.mark.parametrize(("http_status", "code", "answer_status", "retried"), ALL_CODES)
async def test_each_acedata_code_has_its_answer_and_leaves_a_failed_task(
    client, acedata, http_status, code, answer_status, retried
):
    for _ in range(50):
        acedata.answer("/fish/voices", http_status, error_body(code))
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == answer_status
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == code
    assert problem["trace_id"] == "trace-" + code
    assert (len(acedata.sent("/fish/voices")) > 1) is retried
    [task] = (await client.get("/v1/tasks")).json()["items"]
    assert task["status"] == "failed"
    assert task["error"] == {
        "code": code,
        "message": f"AceData says {code}",
        "trace_id": "trace-" + code,
    }


async def test_error_without_success_key_is_understood(client, acedata):
    acedata.answer("/fish/voices", 403, {"error": {"code": "forbidden", "message": "moderated"}})
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden"


async def test_rate_limit_then_success_is_one_accepted_task(client, acedata):
    acedata.answer("/fish/voices", 429, fixture("error_too_many_requests"), {"retry-after": "0"})
    acedata.answer("/fish/voices", 200, fixture("voices_submit_response_async"))
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 202
    assert answer.json()["task_id"] == "9f626a13-96ec-4dec-8846-dc5aab7362a8"
    assert len(acedata.sent("/fish/voices")) == 2


async def test_retry_after_is_honoured(client, acedata):
    acedata.answer("/fish/voices", 429, fixture("error_too_many_requests"), {"retry-after": "0.5"})
    started = time.monotonic()
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 202
    assert time.monotonic() - started >= 0.5
    assert len(acedata.sent("/fish/voices")) == 2


async def test_retry_after_beyond_the_budget_gives_up_at_once_with_503_retry_after(client, acedata):
    acedata.answer("/fish/voices", 429, fixture("error_too_many_requests"), {"retry-after": "30"})
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 503
    assert answer.json()["code"] == "too_many_requests"
    assert answer.headers["retry-after"] == "30"
    assert len(acedata.sent("/fish/voices")) == 1


async def test_outage_is_retried_within_the_budget_then_502(client, acedata):
    for _ in range(200):
        acedata.answer("/fish/voices", 500, fixture("error_api_error"))
    started = time.monotonic()
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 502
    assert answer.json()["code"] == "api_error"
    assert len(acedata.sent("/fish/voices")) > 2
    assert time.monotonic() - started < 2.0  # the budget in tests is 1 s


async def test_connection_refused_is_retried_because_nothing_was_sent(client, acedata):
    acedata.fail("/fish/voices", httpx.ConnectError("connection refused"))
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 202
    assert answer.json()["status"] == "submitted"


async def test_unreachable_acedata_after_retries_is_502_upstream_unavailable(client, acedata):
    for _ in range(200):
        acedata.fail("/fish/voices", httpx.ConnectError("connection refused"))
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 502
    assert answer.json()["code"] == "upstream_unavailable"
    [task] = (await client.get("/v1/tasks")).json()["items"]
    assert task["status"] == "failed"


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
async def test_lost_submit_answer_is_not_resent_and_the_task_stays_pending(client, acedata, error):
    acedata.fail("/fish/voices", error)
    answer = await client.post("/v1/voices", json=VOICE)
    assert answer.status_code == 202
    task = answer.json()
    assert task["status"] == "pending" and task["task_id"] is None
    assert task["error"]["code"] == "upstream_outcome_unknown"
    assert len(acedata.sent("/fish/voices")) == 1


async def test_callback_for_a_lost_submit_answer_still_finishes_the_task(client, acedata):
    acedata.fail("/fish/voices", httpx.ReadTimeout("read timed out"))
    task = (await client.post("/v1/voices", json=VOICE)).json()
    body = fixture("voices_callback_success")
    assert (await post_callback(client, task["id"], body)).status_code == 200
    done = await read(client, task["id"])
    assert done["status"] == "succeeded"
    assert done["task_id"] == body["task_id"]
    assert done["error"] is None
