"""Intake's notifications: sent after the commit, paced, and none missed (app/callbacks/announce.py)."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from structlog.testing import capture_logs

from app.callbacks.announce import PAYLOAD_BYTES, Announcer, notifications
from app.callbacks.intake import Intake
from app.config import asyncpg_url
from app.tasks.waiting import CHANNEL, EVENTS_CHANNEL
from tests.support.polling import eventually
from tests.support.rows import make_task, row


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
    engine, database_url, heard
):
    refs = [await make_task(engine, f"ace-{n}") for n in range(60)]
    intake = Intake(database_url, writers=1, max_batch=5)
    # Twelve waves of five: at least twelve commits, announced while the waves still arrive.
    for wave in range(12):
        batch = range(wave * 5, wave * 5 + 5)
        applied = await asyncio.gather(*(intake.apply(row(refs[n], f"ace-{n}")) for n in batch))
        assert {a.outcome for a in applied} == {"applied"}
    everyone = set(refs) | {f"ace-{n}" for n in range(60)}
    await eventually(lambda: announced(heard) >= everyone, what="every task's announcement")
    await intake.close()
    per_task = [payload for channel, payload in heard if channel == CHANNEL]
    # The triggers sent nothing for intake's commits; the announcer folded them.
    assert len(per_task) < 12
    assert ("fishhook_events", "deliveries") in heard
    assert ("fishhook_events", "tasks") in heard


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


async def test_an_announcement_that_cannot_be_sent_is_logged_not_raised():
    announcer = Announcer("postgresql://postgres@127.0.0.1:1/none")
    with capture_logs() as logs:
        announcer.announce(["tsk_1 ace-1"], {"tasks"})
        await announcer.close()
    assert [entry["event"] for entry in logs] == ["announce_failed"]
