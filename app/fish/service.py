"""The drop-in API's work: submits through tasks.service (so idempotency, retries, relay,
reconciliation and the deliveries log all apply), blocking answers, records from the store."""

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.acedata.client import BATCH_LIMIT, AceDataClient
from app.fish import records
from app.fish.errors import STATUS, FishError
from app.pagination import NUL
from app.tasks import service as tasks
from app.tasks.models import Task
from app.tasks.schemas import SubmitRequest
from app.tasks.waiting import MAX_WAIT, Waiters, wait_for
from app.vocabulary import TERMINAL_STATUSES, TaskKind

if TYPE_CHECKING:  # the runtime is built from the features, fish among them
    from app.runtime import Runtime

Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Submission:
    """What a /fish submit needs besides its body."""

    session: AsyncSession
    runtime: "Runtime"
    idempotency_key: str | None


async def submit(
    sub: Submission,
    *,
    kind: TaskKind,
    api: str,
    request: SubmitRequest,
    blocking: bool,
) -> Answer:
    """Store and forward like POST /v1/*; answer as AceData would: `{task_id, ...}` at once,
    or (blocking) the finished result once fishhook's own store has it."""
    settings = sub.runtime.settings
    task, _ = await tasks.submit(
        sub.session,
        sub.runtime.acedata,
        kind=kind,
        request=request,
        settings=settings,
        statements=sub.runtime.statements,
        callback_secret=sub.runtime.keys.callback_secret,
        idempotency_key=sub.idempotency_key,
        fish_api=api,
    )
    if task.task_id is None:
        raise _not_accepted(task)
    if not blocking:
        return 200, records.accepted(task)
    task = await _finished(sub.session, sub.runtime.waiters, task, settings.fish_wait_timeout)
    answer = records.finished(task)
    if answer is None:
        raise FishError(
            "timeout",
            f"task {task.task_id} did not finish within {settings.fish_wait_timeout:g} s; "
            "it goes on: POST /fish/tasks with its id, or pass async or a callback_url",
            trace_id=task.trace_id,
        )
    return answer


def _not_accepted(task: Task) -> FishError:
    """A task AceData never accepted: refused before (an Idempotency-Key replay of the
    refusal), or its answer was lost on the way back (fishhook reconciles or expires it)."""
    error = task.error or {}
    if task.status == "failed":
        code = str(error.get("code"))
        return FishError(
            code if code in STATUS else "api_error",
            str(error.get("message") or "AceData refused the request"),
            trace_id=error.get("trace_id"),
        )
    return FishError(
        "api_error",
        f"AceData's answer to fishhook was lost; fishhook task {task.id} shows what became "
        "of the job (GET /v1/tasks/{id})",
    )


async def _finished(session: AsyncSession, waiters: Waiters, task: Task, seconds: float) -> Task:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while task.status not in TERMINAL_STATUSES:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        task = await wait_for(session, waiters, task.id, min(remaining, MAX_WAIT))
    return task


async def retrieve(session: AsyncSession, body: dict[str, Any]) -> Answer:
    """POST /fish/tasks from fishhook's store, with the simulator's (AceData's) answers."""
    action = body.get("action")
    if action == "retrieve":
        wanted = body.get("id")
        if not isinstance(wanted, str) or not wanted:
            raise FishError("bad_request", "id is required")
        found = await _tasks(session, [wanted])
        if not found:
            raise FishError("not_found", f"task {wanted} not found")
        return 200, records.record(found[0])
    if action == "retrieve_batch":
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise FishError("bad_request", "ids must be a list of task ids")
        if len(ids) > BATCH_LIMIT:
            raise FishError("bad_request", f"ids must contain at most {BATCH_LIMIT} items")
        items = [records.record(task) for task in await _tasks(session, ids)]
        return 200, {"items": items, "count": len(items)}
    raise FishError("bad_request", "action must be retrieve or retrieve_batch")


async def _tasks(session: AsyncSession, ids: list[str]) -> list[Task]:
    """Tasks by AceData's task_id (or fishhook's id), in the order asked, each once."""
    wanted = [i for i in dict.fromkeys(ids) if i and NUL not in i]
    if not wanted:
        return []
    found = await session.scalars(
        select(Task).where(or_(Task.task_id.in_(wanted), Task.id.in_(wanted)))
    )
    by_id: dict[str, Task] = {}
    for task in found:
        by_id[task.id] = task
        if task.task_id:
            by_id[task.task_id] = task
    ordered = [by_id[i] for i in wanted if i in by_id]
    return list({id(task): task for task in ordered}.values())


async def read_models(
    acedata: AceDataClient, model_id: str | None, params: list[tuple[str, str]]
) -> dict[str, Any]:
    """GET /fish/model[/{id}], passed through to AceData: fishhook keeps no model catalogue."""
    path = "/fish/model" if model_id is None else f"/fish/model/{quote(model_id, safe='')}"
    return await acedata.get(path, params)
