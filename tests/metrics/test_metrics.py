"""GET /metrics: Prometheus text that parses, rates by route template, counts that follow
the data, no secrets, and answers while the database is down or the pool is drained."""

import asyncio
import copy
import dataclasses
import time

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.ids import first_id_at, new_id
from app.metrics import snapshot
from app.metrics.service import version
from tests.support.api import callback_path, post_callback, submit
from tests.support.fixtures import fixture
from tests.support.polling import eventually
from tests.support.settings import ACEDATA_TOKEN, CALLBACK_SECRET

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

# DESIGN.md section 8: what every dashboard may rely on.
CONTRACT = (
    "fishhook_http_requests_total",
    "fishhook_http_request_duration_seconds_bucket",
    "fishhook_callbacks_total",
    "fishhook_relay_attempts_total",
    "fishhook_relay_backlog",
    "fishhook_tasks_open_oldest_age_seconds",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
)


def parse(exposition: str) -> Samples:
    """Parsed by prometheus-client's own parser: a line it cannot read fails the test."""
    samples: Samples = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


async def scrape(client) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return parse(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


async def test_metrics_parse_and_carry_every_contracted_family(app, client):
    assert (await client.get("/healthz")).status_code == 200
    assert await snapshot.refresh(app.state.runtime.sessionmaker)
    samples = await scrape(client)

    assert set(CONTRACT) <= names(samples)
    for status in ("pending", "submitted", "succeeded", "failed", "expired"):
        assert ("fishhook_tasks_24h", frozenset({("status", status)})) in samples
    for result in ("delivered", "retry", "dead"):
        assert ("fishhook_relay_attempts_total", frozenset({("result", result)})) in samples
    assert value(samples, "fishhook_database_up") == 1
    assert value(samples, "fishhook_db_pool_size") > 0
    assert value(samples, "fishhook_info", version=version()) == 1


async def test_rates_and_counts_follow_a_submit_and_its_callback(app, client):
    before = await scrape(client)
    task = await submit(client)
    await client.get(f"/v1/tasks/{task['id']}")
    await snapshot.refresh(app.state.runtime.sessionmaker)
    submitted = await scrape(client)
    body = copy.deepcopy(fixture("voices_callback_success"))
    body["task_id"] = task["task_id"]
    assert (await post_callback(client, task["id"], body)).status_code == 200
    await snapshot.refresh(app.state.runtime.sessionmaker)
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("fishhook_http_requests_total", method="POST", route="/v1/voices", status="202")
    assert (
        grew(
            "fishhook_http_requests_total", method="GET", route="/v1/tasks/{task_ref}", status="200"
        )
        == 1
    )
    assert grew("fishhook_http_request_duration_seconds_count", route="/callbacks") == 1
    assert grew("fishhook_callbacks_total", outcome="applied") == 1
    assert (
        grew("fishhook_acedata_requests_total", endpoint="/fish/voices", status="2xx", code="") == 1
    )
    assert value(submitted, "fishhook_tasks_24h", status="submitted") == 1
    assert value(submitted, "fishhook_tasks_open_oldest_age_seconds") >= 0
    assert value(after, "fishhook_tasks_24h", status="submitted") == 0
    assert value(after, "fishhook_tasks_24h", status="succeeded") == 1


async def test_labels_are_route_templates_never_raw_paths(client):
    await client.get("/v1/tasks/tsk_does_not_exist_42")
    await client.get("/no/such/page/7")
    text = (await client.get("/metrics")).text

    assert "tsk_does_not_exist_42" not in text
    assert "/no/such/page" not in text
    samples = parse(text)
    assert (
        value(
            samples, "fishhook_http_requests_total", method="GET", route="unmatched", status="404"
        )
        >= 1
    )


async def test_acedata_errors_are_counted_by_code(client, acedata):
    before = await scrape(client)
    acedata.answer("/fish/voices", 403, {"error": {"code": "used_up", "message": "balance"}})
    answer = await client.post("/v1/voices", json={"voice_url": "https://cdn.example.com/a.mp3"})
    assert answer.status_code >= 400
    after = await scrape(client)
    labels = {"endpoint": "/fish/voices", "status": "403", "code": "used_up"}
    assert (
        value(after, "fishhook_acedata_requests_total", **labels)
        - value(before, "fishhook_acedata_requests_total", **labels)
        == 1
    )


async def test_unauthenticated_callbacks_are_counted(client):
    before = await scrape(client)
    answer = await client.post("/callbacks?task=tsk_x&token=wrong", json={"task_id": "x"})
    assert answer.status_code == 401
    after = await scrape(client)
    name = "fishhook_callbacks_total"
    assert (
        value(after, name, outcome="unauthenticated")
        - value(before, name, outcome="unauthenticated")
        == 1
    )


async def test_metrics_need_no_api_key_and_show_no_secret(app, client, settings):
    settings.api_keys = [SecretStr("metrics-test-api-key")]
    client.headers["authorization"] = "Bearer metrics-test-api-key"
    task = await submit(client, title="a private title")
    token = callback_path(task["id"]).split("token=")[1]
    await post_callback(client, task["id"], {"task_id": task["task_id"], "audio_url": "x"})
    client.headers.pop("authorization")
    await snapshot.refresh(app.state.runtime.sessionmaker)

    answer = await client.get("/metrics")
    assert answer.status_code == 200
    for secret in ("metrics-test-api-key", ACEDATA_TOKEN, CALLBACK_SECRET, token, task["id"]):
        assert secret not in answer.text
    assert "a private title" not in answer.text
    assert task["task_id"] not in answer.text


async def test_database_outage_still_answers_with_the_last_figures(app, client):
    working = app.state.runtime
    assert await snapshot.refresh(working.sessionmaker)
    await submit(client)
    assert await snapshot.refresh(working.sessionmaker)
    unreachable = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    down = async_sessionmaker(unreachable)
    app.state.runtime = dataclasses.replace(working, sessionmaker=down, reader=down)
    try:
        assert not await snapshot.refresh(app.state.runtime.sessionmaker)
        samples = await scrape(client)
    finally:
        app.state.runtime = working
        await unreachable.dispose()
    assert value(samples, "fishhook_database_up") == 0
    assert value(samples, "fishhook_tasks_24h", status="submitted") == 1  # the last figure


async def test_a_drained_pool_does_not_block_a_scrape(serve):
    async with serve(db_pool_size=1, db_pool_timeout=0.5) as (app, client):
        engine = app.state.runtime.engine
        async with engine.connect():  # the only pooled connection
            answer = await asyncio.wait_for(client.get("/metrics"), 5)
        assert answer.status_code == 200
        assert value(parse(answer.text), "fishhook_db_pool_checked_out") >= 1


def test_first_id_at_bounds_ids_by_creation_time():
    boundary = first_id_at("tsk", time.time() - 1)
    assert new_id("tsk") > boundary
    assert first_id_at("tsk", time.time() + 1) > new_id("tsk")


async def test_the_background_refresh_runs_under_its_statement_timeout(serve):
    """The refresh every worker runs in the background (not only `refresh` called by hand)
    sets its statement_timeout, which needs a transaction: on an autocommit session the
    SET LOCAL was refused and the refresh ran without it."""
    seen: list[str] = []

    async def show_timeout(session: AsyncSession) -> None:
        seen.append(await session.scalar(text("SHOW statement_timeout")))

    snapshot.probe(show_timeout)
    try:
        async with serve(metrics_refresh_interval=0.05):
            await eventually(lambda: bool(seen), what="a background refresh")
    finally:
        snapshot._probes.remove(show_timeout)
    assert set(seen) == {"2s"}  # STATEMENT_TIMEOUT_MS, as PostgreSQL shows it
