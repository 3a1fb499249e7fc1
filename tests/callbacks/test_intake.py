"""The group-commit intake: batching, cancelled callers, poison rows, overload, outages."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import replace

import pytest
from sqlalchemy import URL, make_url, text

from app.callbacks.intake import Intake
from app.errors import ServiceUnavailable
from tests.support.rows import make_task, row


async def stored(engine):
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, outcome FROM deliveries"))
        return dict(rows.all())


async def test_concurrent_callbacks_share_batches_and_each_gets_its_outcome(engine, database_url):
    refs = [await make_task(engine, f"ace-{n}") for n in range(40)]
    intake = Intake(database_url, writers=2, max_batch=50)
    rows = [row(ref, f"ace-{n}") for n, ref in enumerate(refs)]
    rows += [row(refs[0], "ace-0"), row(refs[1], "ace-1", "other")]
    applied = await asyncio.gather(*(intake.apply(r) for r in rows))
    await intake.close()
    outcomes = [a.outcome for a in applied]
    assert outcomes[2:40] == ["applied"] * 38
    # Two writers: which of two callbacks for one task commits first is theirs to decide.
    assert sorted([outcomes[0], outcomes[40]]) == ["applied", "duplicate"]
    assert sorted([outcomes[1], outcomes[41]]) == ["applied", "late"]
    assert len(await stored(engine)) == 42


async def test_a_caller_cancelled_while_queued_is_never_committed(engine, database_url):
    ref = await make_task(engine, "ace-1")
    other = await make_task(engine, "ace-2")
    intake = Intake(database_url, writers=1, max_batch=10)
    async with engine.connect() as holder:
        # Hold one task so the writer's batch blocks; the next caller waits in the queue.
        await holder.execute(text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": ref})
        running = row(ref, "ace-1")
        doomed = row(other, "ace-2")
        first = asyncio.ensure_future(intake.apply(running))
        await asyncio.sleep(0.2)
        cancelled = asyncio.ensure_future(intake.apply(doomed))
        await asyncio.sleep(0.1)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await holder.rollback()
    assert (await first).outcome == "applied"
    await intake.close()
    assert await stored(engine) == {running.id: "applied"}


async def test_a_caller_cancelled_while_its_statement_runs_gets_the_outcome(engine, database_url):
    ref = await make_task(engine, "ace-1")
    intake = Intake(database_url, writers=1, max_batch=10)
    async with engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": ref})
        running = row(ref, "ace-1")
        caller = asyncio.ensure_future(intake.apply(running))
        await asyncio.sleep(0.2)
        # The statement is already in PostgreSQL and may commit: 503 would not be true.
        caller.cancel()
        await asyncio.sleep(0.1)
        caller.cancel()  # and again, as a second shutdown step would
        await asyncio.sleep(0.1)
        assert not caller.done()
        await holder.rollback()
    assert (await caller).outcome == "applied"
    await intake.close()
    assert await stored(engine) == {running.id: "applied"}


async def test_an_unreachable_database_is_503_database_unavailable():
    intake = Intake("postgresql+asyncpg://postgres@127.0.0.1:1/none", writers=1)
    with pytest.raises(ServiceUnavailable) as refused:
        await intake.apply(row("tsk_x", "ace-1"))
    await intake.close()
    assert refused.value.code == "database_unavailable"
    assert refused.value.headers == {"Retry-After": "1"}


async def test_a_caller_cancelled_while_the_writer_connects_is_never_committed(
    engine, database_url
):
    ref = await make_task(engine, "ace-1")
    url = make_url(database_url)
    async with _slow_proxy(url, delay=0.5) as port:
        proxied = url.difference_update_query(["host"]).set(host="127.0.0.1", port=port)
        intake = Intake(proxied.render_as_string(hide_password=False), writers=1)
        caller = asyncio.ensure_future(intake.apply(row(ref, "ace-1")))
        await asyncio.sleep(0.2)  # the writer has the delivery and waits for its connection
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await asyncio.sleep(0.6)  # connected by now: it must not write the delivery anyway
        assert (await intake.apply(row(ref, "ace-1"))).outcome == "applied"
        await intake.close()
    assert len(await stored(engine)) == 1


@asynccontextmanager
async def _slow_proxy(url: URL, *, delay: float) -> AsyncIterator[int]:
    """A TCP proxy to the PostgreSQL at `url` (over TCP, or the embedded server's Unix
    socket) that holds each new connection for `delay` first."""
    socket_dir = url.query.get("host")

    async def open_server() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if isinstance(socket_dir, str):
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{url.port or 5432}")
        return await asyncio.open_connection(url.host, url.port or 5432)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay)
        server_r, server_w = await open_server()
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_a_lock_timeout_is_503_and_stores_nothing(engine, database_url):
    # A statement that fails for a reason other than its values (a lock timeout here; a
    # deadlock alike) is not the delivery's fault: it must not be logged as invalid.
    ref = await make_task(engine, "ace-1")
    impatient = make_url(database_url).update_query_dict({"lock_timeout": "200"})
    intake = Intake(impatient.render_as_string(hide_password=False), writers=1)
    async with engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": ref})
        with pytest.raises(ServiceUnavailable) as refused:
            await intake.apply(row(ref, "ace-1"))
        await holder.rollback()
    assert refused.value.code == "database_unavailable"
    assert await stored(engine) == {}
    # Once the lock is gone, the callback sent again applies.
    assert (await intake.apply(row(ref, "ace-1"))).outcome == "applied"
    await intake.close()


async def test_a_dropped_connection_is_replaced_without_failing_a_callback(engine, database_url):
    refs = [await make_task(engine, f"ace-{n}") for n in range(2)]
    intake = Intake(database_url, writers=1)
    assert (await intake.apply(row(refs[0], "ace-0"))).outcome == "applied"
    async with engine.connect() as conn:
        killed = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE '%WITH input AS%' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            )
        )
    assert killed == 1
    await asyncio.sleep(0.2)
    assert (await intake.apply(row(refs[1], "ace-1"))).outcome == "applied"
    await intake.close()
    assert len(await stored(engine)) == 2


async def test_a_stuck_statement_does_not_hold_up_other_callbacks(engine, database_url):
    ref = await make_task(engine, "ace-1")
    other = await make_task(engine, "ace-2")
    intake = Intake(database_url, writers=2)
    async with engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": ref})
        stuck = asyncio.ensure_future(intake.apply(row(ref, "ace-1")))
        await asyncio.sleep(0.2)
        # The next batch waits for the running statement only until it has run for STALL.
        async with asyncio.timeout(2):
            assert (await intake.apply(row(other, "ace-2"))).outcome == "applied"
        assert not stuck.done()
        await holder.rollback()
    assert (await stuck).outcome == "applied"
    await intake.close()


async def test_an_unstorable_delivery_does_not_fail_its_batch(engine, database_url):
    ref = await make_task(engine, "ace-1")
    good = row(ref, "ace-1")
    raw = '{"task_id": "ace-2", "audio_url": "x\\u0000"}'
    poison = replace(row(await make_task(engine, "ace-2"), "ace-2"), result=raw)
    intake = Intake(database_url, writers=1, max_batch=10)
    outcomes = await asyncio.gather(intake.apply(poison), intake.apply(good))
    await intake.close()
    assert [o.outcome for o in outcomes] == ["invalid", "applied"]
    assert await stored(engine) == {poison.id: "invalid", good.id: "applied"}


async def test_too_many_waiting_is_refused_with_503(engine, database_url):
    ref = await make_task(engine, "ace-1")
    intake = Intake(database_url, writers=1, max_batch=1, max_waiting=1)
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
