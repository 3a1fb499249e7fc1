"""An attempt that crashes is recorded as failed, so the retry schedule and max age apply."""

from app.relay import sender
from tests.support.relay import finished_task, relays_when, settled


async def test_a_crashing_attempt_is_recorded_as_failed_and_ends_dead(
    app, client, receiver, monkeypatch
):
    async def crash(*args: object, **kwargs: object) -> sender.Answer:
        raise RuntimeError("text that might quote a secret")

    monkeypatch.setattr(sender, "send", crash)
    app.state.runtime.settings.relay_max_age = 0.3
    task = await finished_task(client, receiver)

    [message] = await relays_when(client, task["id"], settled)
    assert message["status"] == "dead"
    assert "gave up" in message["last_error"]
    assert len(message["attempts"]) >= 2
    assert [a["number"] for a in message["attempts"]] == list(
        range(1, len(message["attempts"]) + 1)
    )
    assert {a["error"] for a in message["attempts"]} == {"attempt crashed: RuntimeError"}
    listing = (await client.get(f"/v1/tasks/{task['id']}/relays")).text
    assert "might quote a secret" not in listing
    assert receiver.received == []


async def test_a_delivered_attempt_the_database_cannot_record_at_once_is_not_sent_again(
    app, client, receiver, monkeypatch
):
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from app.relay import service, worker

    real_record = service.record
    failures = [PoolTimeout("QueuePool limit reached"), PoolTimeout("QueuePool limit reached")]

    async def flaky_record(*args: object, **kwargs: object):
        if failures:
            raise failures.pop(0)
        return await real_record(*args, **kwargs)

    monkeypatch.setattr(service, "record", flaky_record)
    monkeypatch.setattr(worker, "RECORD_RETRIES", (0.01, 0.01, 0.01))
    task = await finished_task(client, receiver)

    [message] = await relays_when(client, task["id"], settled)
    assert message["status"] == "delivered"
    assert [a["status_code"] for a in message["attempts"]] == [200]
    assert len(receiver.received) == 1  # sent once, recorded on the third try
