"""The batch statement: several deliveries for the same tasks in one statement."""

import json

from sqlalchemy import text

from app.callbacks.batch import apply_batch
from app.ids import new_id
from tests.support.rows import make_task, row


async def run(engine, rows):
    async with engine.begin() as conn:
        outcomes = await apply_batch(conn, rows)
    return [outcomes[r.id].outcome for r in rows]


async def task_row(engine, ref):
    async with engine.connect() as conn:
        return (
            await conn.execute(text("SELECT status, result FROM tasks WHERE id = :id"), {"id": ref})
        ).one()


async def test_copies_in_one_batch_apply_once(engine):
    ref = await make_task(engine)
    assert await run(engine, [row(ref, "ace-1") for _ in range(3)]) == [
        "applied",
        "duplicate",
        "duplicate",
    ]
    assert (await task_row(engine, ref)).status == "succeeded"


async def test_second_different_result_in_one_batch_is_late(engine):
    ref = await make_task(engine)
    assert await run(engine, [row(ref, "ace-1", "first"), row(ref, "ace-1", "second")]) == [
        "applied",
        "late",
    ]
    assert (await task_row(engine, ref)).result["audio_url"].endswith("first.mp3")


async def test_wrong_task_id_does_not_block_the_right_one(engine):
    ref = await make_task(engine)
    assert await run(engine, [row(ref, "ace-other"), row(ref, "ace-1")]) == [
        "unauthenticated",
        "applied",
    ]


async def test_batch_mixes_tasks_outcomes_and_unknown_refs(engine):
    open_ref = await make_task(engine, "ace-1")
    done_ref = await make_task(
        engine,
        "ace-2",
        "succeeded",
        json.dumps({"task_id": "ace-2", "audio_url": "https://x.example/b.mp3"}),
    )
    rows = [
        row(done_ref, "ace-2", "b"),
        row(open_ref, "ace-1"),
        row(new_id("tsk"), "ace-3"),
        row(None, None, decided_outcome="invalid"),
        row(open_ref, "ace-1", decided_outcome="unauthenticated"),
        row(done_ref, "ace-2", "c"),
    ]
    assert await run(engine, rows) == [
        "duplicate",
        "applied",
        "unmatched",
        "invalid",
        "unauthenticated",
        "late",
    ]
    async with engine.connect() as conn:
        logged = (await conn.execute(text("SELECT count(*) FROM deliveries"))).scalar()
    assert logged == 6


async def test_pending_task_takes_its_task_id_from_the_first_result(engine):
    ref = await make_task(engine, task_id=None, status="pending")
    assert await run(engine, [row(ref, "ace-9"), row(ref, "ace-8")]) == [
        "applied",
        "unauthenticated",
    ]
