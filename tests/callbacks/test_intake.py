"""The group-commit intake: batching, cancelled callers, poison rows, overload."""

import asyncio
import json
from dataclasses import replace

import pytest
from sqlalchemy import text

from app.callbacks.intake import Intake
from app.errors import ServiceUnavailable
from tests.callbacks.test_batch import make_task, row


async def stored(engine):
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, outcome FROM deliveries"))
        return dict(rows.all())


async def test_concurrent_callbacks_share_batches_and_each_gets_its_outcome(engine):
    refs = [await make_task(engine, f"ace-{n}") for n in range(40)]
    intake = Intake(engine, writers=2, max_batch=50)
    rows = [row(ref, f"ace-{n}") for n, ref in enumerate(refs)]
    rows += [row(refs[0], "ace-0"), row(refs[1], "ace-1", "other")]
    applied = await asyncio.gather(*(intake.apply(r) for r in rows))
    await intake.close()
    outcomes = [a.outcome for a in applied]
    assert outcomes == ["applied"] * 40 + ["duplicate", "late"]
    assert len(await stored(engine)) == 42


async def test_a_cancelled_caller_is_never_committed(engine):
    ref = await make_task(engine, "ace-1")
    other = await make_task(engine, "ace-2")
    intake = Intake(engine, writers=1, max_batch=10)
    async with engine.connect() as holder:
        # Hold one task so the batch blocks; cancel one caller while it waits.
        await holder.execute(text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": ref})
        doomed = row(ref, "ace-1")
        kept = row(other, "ace-2")
        cancelled = asyncio.ensure_future(intake.apply(doomed))
        waiting = asyncio.ensure_future(intake.apply(kept))
        await asyncio.sleep(0.2)
        cancelled.cancel()
        await holder.rollback()
    assert (await waiting).outcome == "applied"
    await intake.close()
    assert await stored(engine) == {kept.id: "applied"}


async def test_an_unstorable_delivery_does_not_fail_its_batch(engine):
    ref = await make_task(engine, "ace-1")
    good = row(ref, "ace-1")
    raw = '{"task_id": "ace-2", "audio_url": "x\\u0000"}'
    poison = replace(row(await make_task(engine, "ace-2"), "ace-2"), result=raw)
    intake = Intake(engine, writers=1, max_batch=10)
    outcomes = await asyncio.gather(intake.apply(poison), intake.apply(good))
    await intake.close()
    assert [o.outcome for o in outcomes] == ["invalid", "applied"]
    assert await stored(engine) == {poison.id: "invalid", good.id: "applied"}


async def test_too_many_waiting_is_refused_with_503(engine):
    ref = await make_task(engine, "ace-1")
    intake = Intake(engine, writers=1, max_batch=1, max_waiting=1)
    async with engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": ref})
        first = asyncio.ensure_future(intake.apply(row(ref, "ace-1")))
        await asyncio.sleep(0.1)  # the writer holds the first; the next one waits in the queue
        second = asyncio.ensure_future(intake.apply(row(ref, "ace-1")))
        await asyncio.sleep(0.05)
        with pytest.raises(ServiceUnavailable) as refused:
            await intake.apply(row(ref, "ace-1"))
        assert refused.value.code == "overloaded"
        await holder.rollback()
    assert [(await first).outcome, (await second).outcome] == ["applied", "duplicate"]
    await intake.close()
    assert json.dumps(refused.value.headers) == '{"Retry-After": "1"}'
