"""Health, readiness and the shape of every error answer."""

from tests.support.api import VOICE


async def test_healthz_answers_ok(client):
    answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


async def test_readyz_reports_database_and_migration(client):
    answer = await client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ready"


async def test_unknown_path_is_problem_json(client):
    answer = await client.get("/nowhere")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert set(answer.json()) >= {"type", "title", "status", "detail", "code"}


async def test_wrong_method_is_problem_json(client):
    answer = await client.delete("/v1/tasks")
    assert answer.status_code == 405
    assert answer.json()["code"] == "method_not_allowed"


async def test_oversized_submit_is_413_and_stores_nothing(client, settings, acedata):
    body = {**VOICE, "title": "x" * (settings.max_body_bytes + 1)}
    answer = await client.post("/v1/voices", json=body)
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"
    assert acedata.requests == []
    assert (await client.get("/v1/tasks")).json()["items"] == []


async def test_chunked_oversized_submit_is_413(client, settings):
    async def chunks():
        yield b'{"voice_url": "https://a.example/a.mp3", "title": "'
        for _ in range(settings.max_body_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    answer = await client.post(
        "/v1/voices", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413


async def test_malformed_json_submit_is_422_problem(client):
    answer = await client.post(
        "/v1/voices", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"


async def test_every_answer_carries_a_request_id(client):
    answer = await client.get("/healthz", headers={"x-request-id": "abc123"})
    assert answer.headers["x-request-id"] == "abc123"
