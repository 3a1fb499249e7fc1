"""The AceData token never shows: not in answers, log lines, stored tasks, deliveries or keys."""

import logging

import httpx
from sqlalchemy import text

from tests.support.api import SPEECH, VOICE, post_callback
from tests.support.fixtures import fixture
from tests.support.settings import ACEDATA_TOKEN


async def test_acedata_token_appears_in_no_answer_log_or_row(app, client, acedata, caplog):
    caplog.set_level(logging.DEBUG)
    acedata.answer("/fish/voices", 401, fixture("error_invalid_token"))
    acedata.answer("/fish/voices", 403, fixture("error_used_up"))
    acedata.answer("/fish/voices", 429, fixture("error_too_many_requests"), {"retry-after": "60"})
    acedata.answer("/fish/voices", 200, b"<html>not json</html>")
    acedata.fail("/fish/voices", httpx.ReadTimeout("timed out"))
    for _ in range(100):
        acedata.fail("/fish/tts", httpx.ConnectError("connection refused"))
    answers = [await client.post("/v1/voices", json=VOICE, headers={"Idempotency-Key": "k1"})]
    answers += [await client.post("/v1/voices", json=VOICE) for _ in range(4)]
    answers.append(await client.post("/v1/speech", json=SPEECH))
    ok = await client.post("/v1/voices", json=VOICE)
    answers.append(ok)
    body = {**fixture("voices_callback_success"), "task_id": ok.json()["task_id"]}
    answers.append(await post_callback(client, ok.json()["id"], body))
    await app.state.runtime.reconciler.sweep()
    answers.append(await client.get("/v1/tasks"))

    assert {a.status_code for a in answers} >= {502, 503, 202, 200}
    for answer in answers:
        assert ACEDATA_TOKEN not in answer.text
        assert ACEDATA_TOKEN not in str(answer.headers)
    assert "acedata_error" in caplog.text  # the errors were logged...
    assert ACEDATA_TOKEN not in caplog.text  # ...without the token
    assert all(ACEDATA_TOKEN not in str(vars(r)) for r in caplog.records)  # in any field
    async with app.state.runtime.sessionmaker() as session:
        for table in ("tasks", "deliveries", "idempotency_keys", "stored_secrets"):
            rows = await session.execute(text(f"SELECT row_to_json(t)::text FROM {table} AS t"))
            for (row,) in rows:
                assert ACEDATA_TOKEN not in row, table
