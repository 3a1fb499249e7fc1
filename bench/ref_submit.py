"""Submit reference: insert a task, POST it to AceData with one shared httpx client, store
AceData's task_id, answer 202. What a minimal submit costs, without fishhook's guarantees."""

import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DSN = os.environ["BENCH_DSN"]
ACEDATA = os.environ["BENCH_ACEDATA_URL"]
TOKEN = os.environ["BENCH_ACEDATA_TOKEN"]
PATHS = {"voices": "/fish/voices", "speech": "/fish/tts"}
INSERT = "INSERT INTO ref_submit_tasks (id, kind, status, input) VALUES ($1, $2, 'pending', $3)"
ACCEPTED = "UPDATE ref_submit_tasks SET task_id = $2, status = 'submitted' WHERE id = $1"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=10, max_size=10)
    app.state.http = httpx.AsyncClient(headers={"authorization": f"Bearer {TOKEN}"}, timeout=30)
    yield
    await app.state.http.aclose()
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/{kind}")
async def submit(kind: str, request: Request) -> JSONResponse:
    body: dict[str, Any] = await request.json()
    ref = "ref_" + secrets.token_hex(12)
    pool = request.app.state.pool
    await pool.execute(INSERT, ref, kind, json.dumps(body))
    upstream = {**body, "callback_url": f"http://127.0.0.1/ref-callback/{ref}"}
    answer = (await request.app.state.http.post(ACEDATA + PATHS[kind], json=upstream)).json()
    await pool.execute(ACCEPTED, ref, answer["task_id"])
    return JSONResponse({"id": ref, "task_id": answer["task_id"], "status": "submitted"}, 202)
