"""AceData as it really behaves, against the simulator: scripted errors, rate limits, outages,
lost and never-coming callbacks, and two service processes sharing one database."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.database import empty_tables
from tests.support.polling import eventually
from tests.support.processes import Service

pytestmark = pytest.mark.e2e

VOICE = {"voice_url": "https://cdn.example.com/sample.mp3", "title": "e2e"}
QUICK = {
    "reconcile_after": "0.3",
    "reconcile_interval": "0.2",
    "task_timeout": "4",
    "upstream_retry_budget": "1.5",
    "upstream_backoff_base": "0.05",
}


@pytest.fixture(scope="module")
def services(database_url: str, simulator_url: str) -> Iterator[list[Service]]:
    """Two service processes on one database, reconciling quickly."""
    started = [Service(database_url, simulator_url, **QUICK).start() for _ in range(2)]
    try:
        yield started
    finally:
        for svc in started:
            svc.stop()


@pytest.fixture
async def apis(services, database_url) -> AsyncIterator[list[httpx.AsyncClient]]:
    clients = [httpx.AsyncClient(base_url=s.url, timeout=30) for s in services]
    yield clients
    for c in clients:
        await c.aclose()
    await empty_tables(database_url)


async def wait_status(api, ref: str, statuses: tuple[str, ...], timeout: float = 15.0) -> dict:

    async def reached() -> dict | None:
        task = (await api.get(f"/v1/tasks/{ref}")).json()
        return task if task["status"] in statuses else None

    return await eventually(reached, timeout=timeout, interval=0.1, what=f"task {ref} {statuses}")


async def sql(database_url: str, statement: str) -> list[tuple]:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        rows = [tuple(r) for r in await conn.execute(text(statement))]
    await engine.dispose()
    return rows


async def script(sim, **rule) -> None:
    assert (await sim.post("/_sim/rules", json=rule)).status_code == 200


async def submits_seen(sim) -> int:
    items = (await sim.get("/_sim/requests")).json()["items"]
    return sum(1 for i in items if i["path"] == "/fish/voices")


@pytest.mark.parametrize(
    ("http_status", "code", "answer_status"),
    [
        (400, "bad_request", 400),
        (403, "forbidden", 403),
        (413, "request_too_large", 413),
        (400, "no_token", 502),
        (400, "token_mismatched", 502),
        (400, "api_not_implemented", 502),
        (400, "disabled", 502),
        (401, "invalid_token", 502),
        (401, "token_expired", 502),
        (403, "used_up", 502),
        (404, "no_api", 502),
        (429, "too_many_requests", 503),
        (500, "api_error", 502),
        (500, "busy", 502),
        (504, "timeout", 504),
    ],
)
async def test_each_scripted_acedata_error_reaches_the_client(
    apis, sim, http_status, code, answer_status
):
    body = {"success": False, "error": {"code": code, "message": code}, "trace_id": "t-" + code}
    await script(sim, endpoint="/fish/voices", respond={"status": http_status, "body": body})
    answer = await apis[0].post("/v1/voices", json=VOICE)
    assert answer.status_code == answer_status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert answer.json()["trace_id"] == "t-" + code
    [task] = (await apis[0].get("/v1/tasks")).json()["items"]
    assert task["status"] == "failed" and task["error"]["code"] == code
    retried = http_status == 429 or http_status >= 500
    assert (await submits_seen(sim) > 1) is retried


async def test_rate_limited_once_then_accepted(apis, sim):
    body = {"success": False, "error": {"code": "too_many_requests", "message": "slow down"}}
    respond = {"status": 429, "body": body, "headers": {"retry-after": "0"}}
    await script(sim, endpoint="/fish/voices", times=1, respond=respond)
    answer = await apis[0].post("/v1/voices", json=VOICE)
    assert answer.status_code == 202
    assert await submits_seen(sim) == 2
    assert (await wait_status(apis[0], answer.json()["id"], ("succeeded",)))["output"]


async def test_outage_behind_a_proxy_is_retried_then_502(apis, sim):
    respond = {"status": 502, "text": "<html><body>502 Bad Gateway</body></html>"}
    await script(sim, endpoint="/fish/voices", respond=respond)
    answer = await apis[0].post("/v1/voices", json=VOICE)
    assert answer.status_code == 502
    assert answer.json()["code"] == "upstream_invalid_response"
    assert await submits_seen(sim) > 2


async def test_lost_callbacks_are_finished_by_reconciliation(apis, sim, database_url):
    await script(sim, endpoint="/fish/voices", callback={"mode": "lost", "delay": 0})
    refs = [(await apis[0].post("/v1/voices", json=VOICE)).json()["id"] for _ in range(3)]
    for ref in refs:
        assert (await wait_status(apis[0], ref, ("succeeded",)))["output"]["voice_id"]
    assert (await sim.get("/_sim/callbacks")).json()["items"] == []
    rows = await sql(database_url, "SELECT source, outcome FROM deliveries")
    assert rows == [("reconcile", "applied")] * 3


async def test_two_processes_look_up_and_apply_each_task_exactly_once(apis, sim, database_url):
    await script(sim, endpoint="/fish/voices", callback={"mode": "lost", "delay": 0})
    answers = await asyncio.gather(*(apis[n % 2].post("/v1/voices", json=VOICE) for n in range(20)))
    tasks = [a.json() for a in answers]
    for task in tasks:
        await wait_status(apis[0], task["id"], ("succeeded",))
    counts = await sql(
        database_url,
        "SELECT task_ref, count(*) FROM deliveries WHERE source = 'reconcile' GROUP BY task_ref",
    )
    assert sorted(counts) == sorted((t["id"], 1) for t in tasks)
    lookups = [
        task_id
        for item in (await sim.get("/_sim/requests")).json()["items"]
        if item["path"] == "/fish/tasks"
        for task_id in item["body"]["ids"]
    ]
    assert sorted(lookups) == sorted(t["task_id"] for t in tasks)


async def test_task_that_never_finishes_expires_with_timeout(apis, sim):
    await script(sim, endpoint="/fish/voices", callback={"mode": "never"})
    task = (await apis[1].post("/v1/voices", json=VOICE)).json()
    expired = await wait_status(apis[1], task["id"], ("expired",))
    assert expired["error"]["code"] == "timeout"
    assert expired["task_id"] == task["task_id"]
