"""Read reference: the floor of a Python status read, one asyncpg SELECT by id, as JSON."""

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Request

DSN = os.environ["BENCH_DSN"]
# fishhook's own tasks table, the columns its answer carries, by either id.
SELECT = """
SELECT id, task_id, kind, status, input, output, result, error, trace_id, created_at,
       updated_at, finished_at
FROM tasks WHERE id = $1 OR task_id = $1
"""


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=10, max_size=10, init=_init)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/v1/tasks/{task_id}")
async def read_task(task_id: str, request: Request) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(SELECT, task_id)
    if row is None:
        raise HTTPException(404)
    return dict(row)
