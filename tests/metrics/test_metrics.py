"""GET /metrics: Prometheus text that parses, counts that follow the data, no secrets."""

import copy
import dataclasses
import re
import time

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.ids import first_id_at, new_id
from app.metrics.exposition import gauge
from app.metrics.service import version
from tests.support.api import callback_path, post_callback, submit
from tests.support.fixtures import fixture
from tests.support.settings import ACEDATA_TOKEN, CALLBACK_SECRET

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
PAIR = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{PAIR},?)*)\}})? (-?[0-9.e+]+|NaN|[+-]Inf)$")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(exposition: str) -> Samples:
    samples: Samples = {}
    typed: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        assert name in typed, f"{name} has no # TYPE line"
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


async def scrape(client) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def test_metrics_parse_and_cover_every_status_and_process_gauge(client):
    samples = await scrape(client)

    for status in ("pending", "submitted", "succeeded", "failed", "expired"):
        assert value(samples, "fishhook_tasks_24h", status=status) == 0
    assert value(samples, "fishhook_deliveries_24h", outcome="applied") == 0
    assert value(samples, "fishhook_relay_messages", status="pending") == 0
    assert value(samples, "fishhook_table_rows_estimate", table="deliveries") >= 0
    assert value(samples, "fishhook_intake_waiting") == 0
    assert value(samples, "fishhook_long_polls") == 0
    assert value(samples, "fishhook_db_pool_checked_out") >= 0
    assert value(samples, "fishhook_db_pool_size") > 0
    assert value(samples, "fishhook_info", version=version()) == 1


async def test_counts_follow_a_submit_and_its_callback(client):
    before = await scrape(client)
    task = await submit(client)
    submitted = await scrape(client)
    body = copy.deepcopy(fixture("voices_callback_success"))
    body["task_id"] = task["task_id"]
    assert (await post_callback(client, task["id"], body)).status_code == 200
    after = await scrape(client)

    assert value(submitted, "fishhook_tasks_24h", status="submitted") == 1
    assert value(after, "fishhook_tasks_24h", status="submitted") == 0
    assert value(after, "fishhook_tasks_24h", status="succeeded") == 1
    applied = value(after, "fishhook_deliveries_24h", outcome="applied")
    assert applied == value(before, "fishhook_deliveries_24h", outcome="applied") + 1


async def test_metrics_need_no_api_key_and_show_no_secret(app, client, settings):
    settings.api_keys = [SecretStr("metrics-test-api-key")]
    client.headers["authorization"] = "Bearer metrics-test-api-key"
    task = await submit(client, title="a private title")
    token = callback_path(task["id"]).split("token=")[1]
    await post_callback(client, task["id"], {"task_id": task["task_id"], "audio_url": "x"})
    client.headers.pop("authorization")

    answer = await client.get("/metrics")
    assert answer.status_code == 200
    for secret in ("metrics-test-api-key", ACEDATA_TOKEN, CALLBACK_SECRET, token, task["id"]):
        assert secret not in answer.text
    assert "a private title" not in answer.text
    assert task["task_id"] not in answer.text


async def test_database_outage_answers_503_problem(app, client):
    working = app.state.runtime
    unreachable = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    app.state.runtime = dataclasses.replace(working, sessionmaker=async_sessionmaker(unreachable))
    try:
        answer = await client.get("/metrics")
    finally:
        app.state.runtime = working
        await unreachable.dispose()
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "database_unavailable"


def test_first_id_at_bounds_ids_by_creation_time():
    boundary = first_id_at("tsk", time.time() - 1)
    assert new_id("tsk") > boundary
    assert first_id_at("tsk", time.time() + 1) > new_id("tsk")


def test_label_values_are_escaped():
    lines = gauge("fishhook_x", "help\\n", [({"v": 'a"b\\c\nd'}, 1.5)])
    assert lines[-1] == 'fishhook_x{v="a\\"b\\\\c\\nd"} 1.5'
    assert parse("\n".join(lines)) == {("fishhook_x", frozenset({("v", 'a\\"b\\\\c\\nd')})): 1.5}
