"""Reconciliation: tasks whose callback never came are finished from /fish/tasks, or expire."""

import asyncio
import itertools
import json
import uuid

import pytest
from sqlalchemy import text

from app.reconcile.pacer import Pacer
from app.reconcile.service import Reconciler
from tests.support.api import post_callback, read, submit
from tests.support.fixtures import fixture
from tests.support.polling import eventually


@pytest.fixture
def settings(settings):
    # Due at once and swept often, so tests wait fractions of a second.
    return settings.model_copy(update={"reconcile_after": 0, "reconcile_interval": 0.05})


def finished_record(task_id: str, body: dict) -> dict:
    record = fixture("tasks_retrieve_finished")
    record["id"] = task_id
    record["response"] = {**body, "task_id": task_id}
    return record


def running_record(task_id: str) -> dict:
    return {**fixture("tasks_retrieve_running"), "id": task_id}


async def wait_for(client, task_ref: str, status: str, timeout: float = 10.0) -> dict:

    async def reached() -> dict | None:
        task = await read(client, task_ref)
        return task if task["status"] == status else None

    return await eventually(reached, timeout=timeout, interval=0.05, what=f"{task_ref} {status}")


async def deliveries(app, task_ref: str) -> list[tuple[str, str]]:
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT source, outcome FROM deliveries WHERE task_ref = :ref"), {"ref": task_ref}
        )
        return [tuple(row) for row in rows]


def asked_ids(acedata) -> list[str]:
    return [i for body in acedata.sent("/fish/tasks") for i in body["ids"]]


async def test_task_whose_callback_was_lost_is_finished_by_reconciliation(app, client, acedata):
    task = await submit(client)
    acedata.records[task["task_id"]] = finished_record(
        task["task_id"], fixture("voices_callback_success")
    )
    done = await wait_for(client, task["id"], "succeeded")
    assert done["output"]["voice_id"] == fixture("voices_callback_success")["data"]["_id"]
    assert done["result"]["task_id"] == task["task_id"]
    assert await deliveries(app, task["id"]) == [("reconcile", "applied")]


async def test_failure_found_by_reconciliation_fails_the_task(client, acedata):
    task = await submit(client, "speech")
    acedata.records[task["task_id"]] = finished_record(
        task["task_id"], fixture("tts_callback_failure")
    )
    done = await wait_for(client, task["id"], "failed")
    assert done["error"]["code"]


async def test_still_running_task_is_asked_again_later_with_backoff(app, client, acedata):
    task = await submit(client)
    acedata.records[task["task_id"]] = running_record(task["task_id"])
    await eventually(lambda: task["task_id"] in asked_ids(acedata), timeout=5, interval=0.05)
    await asyncio.sleep(0.3)  # several sweeps: none may ask again before the backoff is over
    assert asked_ids(acedata).count(task["task_id"]) == 1
    assert (await read(client, task["id"]))["status"] == "submitted"

    acedata.records[task["task_id"]] = finished_record(
        task["task_id"], fixture("voices_callback_success")
    )
    await wait_for(client, task["id"], "succeeded")
    assert asked_ids(acedata).count(task["task_id"]) == 2


async def test_callback_that_arrives_first_leaves_nothing_to_reconcile(app, client, acedata):
    acedata.records.clear()
    task = await submit(client)
    body = {**fixture("voices_callback_success"), "task_id": task["task_id"]}
    await post_callback(client, task["id"], body)
    acedata.records[task["task_id"]] = finished_record(task["task_id"], body)
    await asyncio.sleep(0.3)
    applied = [d for d in await deliveries(app, task["id"]) if d[1] == "applied"]
    assert applied == [("callback", "applied")]


async def test_task_with_no_result_expires_and_a_late_result_still_applies(app, client, acedata):
    app.state.runtime.settings.task_timeout = 0.3
    task = await submit(client)
    acedata.records[task["task_id"]] = running_record(task["task_id"])
    expired = await wait_for(client, task["id"], "expired")
    assert expired["error"]["code"] == "timeout"

    body = {**fixture("voices_callback_success"), "task_id": task["task_id"]}
    assert (await post_callback(client, task["id"], body)).status_code == 200
    done = await read(client, task["id"])
    assert done["status"] == "succeeded" and done["error"] is None


async def test_pending_task_left_by_a_crash_is_settled_not_left_pending(app, client):
    ref = "tsk_crashed_before_acedata_answered"
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(
            text(
                "INSERT INTO tasks (id, kind, status, input, created_at) "
                "VALUES (:id, 'voice', 'pending', '{}', now() - interval '1 hour')"
            ),
            {"id": ref},
        )
        await session.commit()
    settled = await wait_for(client, ref, "expired")
    assert settled["error"]["code"] == "upstream_outcome_unknown"


async def insert_submitted(app, count: int) -> dict[str, str]:
    refs = {str(uuid.uuid4()): f"tsk_bulk_{n:04d}" for n in range(count)}
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(
            text(
                "INSERT INTO tasks (id, task_id, kind, status, input, next_check_at) "
                "SELECT ref, task_id, 'voice', 'submitted', '{}', now() + interval '1 hour' "
                "FROM unnest(CAST(:refs AS text[]), CAST(:ids AS text[])) AS t(ref, task_id)"
            ),
            {"refs": list(refs.values()), "ids": list(refs)},
        )
        await session.commit()
    return refs


async def make_due(app) -> None:
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(text("UPDATE tasks SET next_check_at = now()"))
        await session.commit()


async def test_lookups_are_batches_of_50_at_most_one_a_second(serve, acedata):
    async with serve(reconcile_pace=1.0) as (app, client):
        refs = await insert_submitted(app, 120)
        for task_id in refs:
            acedata.records[task_id] = finished_record(task_id, fixture("voices_callback_success"))
        await make_due(app)
        for ref in list(refs.values())[-1:]:
            await wait_for(client, ref, "succeeded")
    calls = [r for r in acedata.requests if r.url.path == "/fish/tasks"]
    sizes = [len(json.loads(r.content)["ids"]) for r in calls]
    assert sizes == [50, 50, 20]
    assert sorted(asked_ids(acedata)) == sorted(refs)
    times = [t for r, t in zip(acedata.requests, acedata.sent_at, strict=True) if r in calls]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(times))


async def test_two_reconcilers_sharing_the_database_look_each_task_up_once(app, acedata):
    await app.state.runtime.background.stop()  # only the two below may sweep
    refs = await insert_submitted(app, 80)
    for task_id in refs:
        acedata.records[task_id] = finished_record(task_id, fixture("tts_callback_success"))
    await make_due(app)
    settings, client = app.state.runtime.settings, app.state.runtime.acedata
    one = Reconciler(app.state.runtime.sessionmaker, client, settings, Pacer(0))
    two = Reconciler(app.state.runtime.sessionmaker, client, settings, Pacer(0))
    sweeps = await asyncio.gather(one.sweep(), two.sweep(), one.sweep(), two.sweep())
    assert sum(s.applied for s in sweeps) == 80
    assert sorted(asked_ids(acedata)) == sorted(refs)
    async with app.state.runtime.sessionmaker() as session:
        counts = await session.execute(
            text("SELECT count(*) FROM deliveries WHERE source = 'reconcile' GROUP BY task_ref")
        )
        assert [c for (c,) in counts] == [1] * 80
