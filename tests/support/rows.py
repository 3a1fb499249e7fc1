"""Tasks and delivery rows written straight to the database, for the batch statement and for
loads that need more tasks than submitting them is worth."""

import json
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.callbacks.batch import Row
from app.ids import new_id


async def make_task(engine, task_id="ace-1", status="submitted", result=None):
    ref = new_id("tsk")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO tasks (id, task_id, kind, status, input, result) "
                "VALUES (:id, :task_id, 'speech', :status, '{}', CAST(:result AS jsonb))"
            ),
            {"id": ref, "task_id": task_id, "status": status, "result": result},
        )
    return ref


async def submitted_tasks(database_url: str, count: int) -> list[tuple[str, str]]:
    """`count` submitted speech tasks, in one statement: (fishhook id, AceData task_id)."""
    tasks = [(new_id("tsk"), str(uuid.uuid4())) for _ in range(count)]
    engine = create_async_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO tasks (id, task_id, kind, status, input) "
                "SELECT unnest(CAST(:ids AS text[])), unnest(CAST(:task_ids AS text[])), "
                "'speech', 'submitted', '{}'::jsonb"
            ),
            {"ids": [t[0] for t in tasks], "task_ids": [t[1] for t in tasks]},
        )
    await engine.dispose()
    return tasks


def row(ref, task_id, audio="a", decided_outcome=None):
    body = {"task_id": task_id, "audio_url": f"https://x.example/{audio}.mp3"}
    raw = json.dumps(body)
    return Row(
        id=new_id("dlv"),
        source="callback",
        remote_addr="127.0.0.1",
        method="POST",
        query="",
        headers="{}",
        body=raw.encode(),
        body_size=len(raw),
        task_id=task_id,
        task_ref=ref,
        decided_outcome=decided_outcome,
        detail=None,
        status=None if decided_outcome else "succeeded",
        result=None if decided_outcome else raw,
        output=json.dumps({"audio_url": body["audio_url"]}),
        error=None,
        trace_id=None,
    )
