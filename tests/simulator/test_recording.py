"""What tests can read back (requests, callback attempts, jobs), reset, shutdown and run()."""

import asyncio
from typing import Any

import httpx
import pytest
import uvicorn

from app.simulator import app as simulator_app
from app.simulator import create_simulator_app
from tests.support.fixtures import fixture
from tests.support.polling import eventually
from tests.support.receiver import Receiver
from tests.support.simulator import FAILING_HOOK, HOOK, TOKEN, SimEnv

TTS_REQUEST = {**fixture("tts_submit_request"), "callback_url": HOOK}


async def test_requests_are_recorded_with_the_token_redacted(sim: SimEnv) -> None:
    await sim.fish("/fish/tts", TTS_REQUEST, headers={"model": "s1"})
    await sim.fish("/fish/tts", TTS_REQUEST, token="wrong")

    first, second = await sim.listing("requests")

    assert (first["method"], first["path"], first["body"]) == ("POST", "/fish/tts", TTS_REQUEST)
    assert first["headers"]["authorization"] == "Bearer ***"
    assert first["headers"]["model"] == "s1"
    assert (first["authorized"], second["authorized"]) == (True, False)
    assert TOKEN not in str(first) and first["time"] <= second["time"]


async def test_a_body_that_is_not_json_is_recorded_as_text(sim: SimEnv) -> None:
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": "text/plain"}
    response = await sim.client.post("/fish/voices", content=b"voice_url=x", headers=headers)

    assert response.status_code == 400
    assert (await sim.listing("requests"))[0]["body"] == "voice_url=x"


async def test_failed_callback_is_recorded_and_not_retried(sim: SimEnv) -> None:
    task_id = (await sim.fish("/fish/tts", {**TTS_REQUEST, "callback_url": FAILING_HOOK})).json()[
        "task_id"
    ]

    async def attempted() -> bool:
        return len(await sim.listing("callbacks")) == 1

    await eventually(attempted)
    await asyncio.sleep(0.05)

    [attempt] = await sim.listing("callbacks")
    assert (attempt["task_id"], attempt["url"], attempt["status"]) == (task_id, FAILING_HOOK, 500)
    assert attempt["body"]["task_id"] == task_id and attempt["error"] is None
    assert len(sim.receiver.received) == 1


async def test_unreachable_callback_url_is_recorded_as_an_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = create_simulator_app(
        token=TOKEN, callback_delay=0.01, callback_transport=httpx.MockTransport(refuse)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
            sim = SimEnv(client, Receiver())
            await sim.fish("/fish/tts", TTS_REQUEST)

            async def attempted() -> bool:
                return len(await sim.listing("callbacks")) == 1

            await eventually(attempted)
            [attempt] = await sim.listing("callbacks")

    assert attempt["status"] is None
    assert "connection refused" in attempt["error"]


async def test_reset_clears_requests_callbacks_jobs_and_rules(sim: SimEnv) -> None:
    await sim.add_rule({"endpoint": "/fish/voices", "respond": {"status": 500, "body": {}}})
    await sim.fish("/fish/tts", TTS_REQUEST)
    await eventually(lambda: len(sim.receiver.received) == 1)

    await sim.client.post("/_sim/reset")

    for name in ("requests", "callbacks", "jobs", "rules"):
        assert await sim.listing(name) == []


async def test_shutdown_cancels_pending_callbacks() -> None:
    posted: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200)

    app = create_simulator_app(
        token=TOKEN, callback_delay=30, callback_transport=httpx.MockTransport(record)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
            response = await SimEnv(client, Receiver()).fish("/fish/tts", TTS_REQUEST)
            assert response.status_code == 200

    assert posted == []


def test_run_serves_the_simulator_with_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda app, **options: calls.append({"app": app, **options})
    )

    simulator_app.run("127.0.0.1", 8100, "T", 0.5)

    [call] = calls
    assert (call["host"], call["port"], call["log_level"]) == ("127.0.0.1", 8100, "warning")
    assert call["app"].state.sim_token == "T"
