"""Retention: finished relay messages (with their attempts) and old Idempotency-Keys go after
their settings; pending relays, recent rows and applied deliveries stay."""

from sqlalchemy import text

from app import retention

DAY = 86_400

_MESSAGE = text(
    """
INSERT INTO relay_messages (id, task_ref, url, event, task, status, created_at)
VALUES (:id, 'tsk_r', 'https://example.com/hook', 'succeeded', '{}', :status,
        now() - make_interval(days => :age))
"""
)
_ATTEMPT = text(
    """
INSERT INTO relay_attempts (message_id, number, started_at, latency_ms, status_code)
VALUES (:id, 1, now(), 5, 200)
"""
)
_KEY = text(
    """
INSERT INTO idempotency_keys (key, fingerprint, task_ref, created_at)
VALUES (:key, 'f', 'tsk_r', now() - make_interval(days => :age))
"""
)


async def ids(session, query: str) -> set[str]:
    return set((await session.execute(text(query))).scalars())


async def test_finished_relays_and_old_keys_are_pruned_the_rest_stays(app, settings):
    await app.state.runtime.background.stop()  # only the prune below runs
    sessionmaker = app.state.runtime.sessionmaker
    async with sessionmaker() as session:
        for id_, status, age in [
            ("msg_old_delivered", "delivered", 40),
            ("msg_old_dead", "dead", 40),
            ("msg_old_pending", "pending", 40),
            ("msg_new_delivered", "delivered", 1),
        ]:
            await session.execute(_MESSAGE, {"id": id_, "status": status, "age": age})
            await session.execute(_ATTEMPT, {"id": id_})
        await session.execute(_KEY, {"key": "old-key", "age": 3})
        await session.execute(_KEY, {"key": "new-key", "age": 0})
        await session.commit()

    changed = settings.model_copy(update={"relay_retention_days": 30, "idempotency_ttl": DAY})
    assert await retention.prune_all(sessionmaker, changed) == 3

    async with sessionmaker() as session:
        assert await ids(session, "SELECT id FROM relay_messages") == {
            "msg_old_pending",
            "msg_new_delivered",
        }
        assert await ids(session, "SELECT message_id FROM relay_attempts") == {
            "msg_old_pending",
            "msg_new_delivered",
        }
        assert await ids(session, "SELECT key FROM idempotency_keys") == {"new-key"}
        await session.commit()


async def test_pruning_goes_in_batches(app, monkeypatch):
    await app.state.runtime.background.stop()
    sessionmaker = app.state.runtime.sessionmaker
    async with sessionmaker() as session:
        for n in range(7):
            await session.execute(_KEY, {"key": f"k{n}", "age": 3})
        await session.commit()
    monkeypatch.setattr(retention, "BATCH", 3)  # each statement deletes 3 at most
    deleted = await retention.prune(
        sessionmaker, "idempotency_keys", retention.IDEMPOTENCY_KEYS, DAY
    )
    assert deleted == 7  # 3 + 3 + 1, each batch its own short transaction
