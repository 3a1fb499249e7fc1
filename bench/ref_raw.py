"""Reference receiver 1: the floor of a Python receiver, one raw asyncpg upsert per callback."""

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request

DSN = os.environ["BENCH_DSN"]
UPSERT = """
INSERT INTO ref_raw_callbacks (task_id, body, received_at) VALUES ($1, $2::jsonb, now())
ON CONFLICT (task_id) DO UPDATE SET body = EXCLUDED.body, received_at = now()
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=10, max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/callback")
async def callback(request: Request) -> dict[str, bool]:
    body = await request.body()
    payload = json.loads(body)
    async with request.app.state.pool.acquire() as conn:
        await conn.execute(UPSERT, payload["task_id"], body.decode())
    return {"ok": True}
