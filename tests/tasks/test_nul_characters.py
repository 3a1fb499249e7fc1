"""A NUL character (U+0000), which PostgreSQL cannot store, is the client's mistake: never a 500."""

import base64

import pytest

from tests.support.api import SPEECH, VOICE, submit

NUL = "\u0000"


def _problem(answer, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/voices", {**VOICE, "title": f"a{NUL}b"}),
        ("/v1/voices", {**VOICE, "description": NUL}),
        ("/v1/speech", {**SPEECH, "text": f"Hello{NUL}"}),
        ("/v1/speech", {**SPEECH, "reference_id": f"{NUL}x"}),
    ],
)
async def test_nul_in_a_submitted_string_is_422_and_calls_nobody(client, acedata, path, body):
    answer = await client.post(path, json=body)
    _problem(answer, 422, "validation_error")
    assert "NUL" in answer.json()["detail"]
    assert acedata.requests == []
    assert (await client.get("/v1/tasks")).json()["items"] == []


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v1/tasks/tsk_%00", "task_not_found"),
        ("/v1/tasks/%00?wait=0.1", "task_not_found"),
        ("/v1/tasks/tsk_%00/relays", "task_not_found"),
        ("/v1/deliveries/dlv_%00", "delivery_not_found"),
    ],
)
async def test_nul_in_an_id_is_404_like_any_unknown_id(client, path, code):
    _problem(await client.get(path), 404, code)


async def test_nul_in_a_replayed_delivery_id_is_404(client):
    _problem(await client.post("/v1/deliveries/dlv_%00/replay"), 404, "delivery_not_found")


async def test_nul_in_the_deliveries_task_filter_matches_nothing(client):
    await submit(client)
    answer = await client.get("/v1/deliveries", params={"task_id": f"tsk_{NUL}"})
    assert answer.status_code == 200
    assert answer.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("path", ["/v1/tasks", "/v1/deliveries"])
async def test_a_cursor_that_decodes_to_a_nul_is_400_invalid_cursor(client, path):
    cursor = base64.urlsafe_b64encode(b"tsk_\x00").decode().rstrip("=")
    _problem(await client.get(path, params={"cursor": cursor}), 400, "invalid_cursor")


# "====" decodes to nothing: not a cursor this service issued either.
@pytest.mark.parametrize("cursor", [NUL, f"dHNr{NUL}", "===="])
async def test_a_cursor_with_a_raw_nul_is_400_invalid_cursor(client, cursor):
    _problem(await client.get("/v1/tasks", params={"cursor": cursor}), 400, "invalid_cursor")


async def test_nul_in_the_relay_endpoint_task_id_is_404(client):
    _problem(await client.post("/v1/tasks/tsk_%00/relay"), 404, "task_not_found")
