"""Intake's notifications: sent after the commit, paced, and none missed (app/callbacks/announce.py)."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from structlog.testing import capture_logs

from app.callbacks import announce
from app.callbacks.announce import PAYLOAD_BYTES, Announcer, notifications
from app.callbacks.intake import Intake
from app.config import asyncpg_url
from app.tasks.waiting import CHANNEL, EVENTS_CHANNEL
from tests.support.polling import eventually
from tests.support.rows import make_task, row, submitted_tasks


@pytest.fixture
async def heard(database_url) -> AsyncIterator[list[tuple[str, str]]]:
    """(channel, payload) of every notification on the channels long-polls and live pages use."""
    received: list[tuple[str, str]] = []
    conn = await asyncpg.connect(asyncpg_url(database_url, dsn=True))

    def note(_conn: object, _pid: int, channel: str, payload: str) -> None:
        received.append((channel, payload))

    for channel in (CHANNEL, EVENTS_CHANNEL):
        await conn.add_listener(channel, note)
    yield received
    await conn.close()


def announced(heard: list[tuple[str, str]]) -> set[str]:
    return {key for channel, payload in heard if channel == CHANNEL for key in payload.split()}


async def test_every_finished_task_is_announced_in_fewer_notifications_than_commits(
    engine, database_url, heard, monkeypatch
):
    # A pace longer than twelve commits take, however slow the machine.
    monkeypatch.setattr(announce, "PACE", 0.5)
    tasks = await submitted_tasks(database_url, 60)  # one statement, one notification
    await eventually(lambda: heard, what="the insert's notification")
    heard.clear()
    intake = Intake(database_url, writers=1, max_batch=5)
    # Twelve waves of five: at least twelve commits, announced while the waves still arrive.
    for wave in range(12):
        batch = tasks[wave * 5 : wave * 5 + 5]
        applied = await asyncio.gather(*(intake.apply(row(*task)) for task in batch))
        assert {a.outcome for a in applied} == {"applied"}
    everyone = {key for task in tasks for key in task}
    await eventually(lambda: announced(heard) >= everyone, what="every task's announcement")
    await intake.close()
    per_task = [payload for channel, payload in heard if channel == CHANNEL]
    # The triggers sent nothing for intake's commits; the announcer folded them.
    assert len(per_task) <= 3
    assert ("fishhook_events", "deliveries") in heard
    assert ("fishhook_events", "tasks") in heard


async def test_a_dropped_connection_costs_no_announcement(engine, database_url, heard):
    announcer = Announcer(asyncpg_url(database_url, dsn=True))
    announcer.announce(["tsk_1 ace-1"], {"tasks"})
    await eventually(lambda: "tsk_1" in announced(heard), what="the first announcement")
    async with engine.connect() as conn:  # an idle timeout, or an administrator
        await conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'fishhook-announce'"
        )
    announcer.announce(["tsk_2 ace-2"], {"tasks"})
    await eventually(lambda: "tsk_2" in announced(heard), what="the one after the drop")
    await announcer.close()


async def test_what_could_not_be_sent_goes_once_the_database_answers(
    database_url, heard, monkeypatch
):
    connect = asyncpg.connect
    refusals = iter([ConnectionRefusedError(), ConnectionRefusedError()])

    async def unreachable_twice(*args, **kwargs):
        refusal = next(refusals, None)
        if refusal is not None:
            raise refusal
        return await connect(*args, **kwargs)

    monkeypatch.setattr(announce.asyncpg, "connect", unreachable_twice)
    announcer = Announcer(asyncpg_url(database_url, dsn=True))
    with capture_logs() as logs:
        announcer.announce(["tsk_1 ace-1"], {"tasks"})
        await eventually(lambda: "tsk_1" in announced(heard), what="the retried announcement")
        announcer.announce(["tsk_2 ace-2"], {"tasks"})
        await eventually(lambda: "tsk_2" in announced(heard), what="the next one")
    await announcer.close()
    assert [entry["event"] for entry in logs] == ["announce_failed"]


async def test_a_commit_elsewhere_still_notifies_from_its_trigger(engine, heard):
    ref = await make_task(engine, "ace-1")
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "UPDATE tasks SET status = 'failed', finished_at = now() WHERE id = $1", (ref,)
        )
    await eventually(lambda: {ref, "ace-1"} <= announced(heard), what="the trigger's NOTIFY")


async def test_long_task_ids_are_split_over_payloads_postgresql_takes(database_url, heard):
    tasks = [f"tsk_{n:04d} {'x' * 250}{n:04d}" for n in range(100)]
    _, payloads = notifications(tasks, {"deliveries"})
    assert len(payloads) > 1
    assert all(len(p.encode()) <= PAYLOAD_BYTES for p in payloads)
    announcer = Announcer(asyncpg_url(database_url, dsn=True))
    announcer.announce(tasks, {"deliveries"})
    expected = {key for task in tasks for key in task.split()}
    await eventually(lambda: announced(heard) >= expected, what="all 100 tasks")
    await announcer.close()


async def test_an_unreachable_database_is_logged_once_and_not_raised(monkeypatch):
    monkeypatch.setattr(announce, "CLOSE_TIMEOUT", 0.5)
    announcer = Announcer("postgresql://postgres@127.0.0.1:1/none")
    with capture_logs() as logs:
        announcer.announce(["tsk_1 ace-1"], {"tasks"})
        await announcer.close()  # still trying when it closes
    assert [entry["event"] for entry in logs] == ["announce_failed"]
