"""Submitting jobs to AceData and reading tasks back."""

import json
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import with_expression

from app import pagination
from app import url_safety as safety
from app.acedata.client import AceDataClient
from app.acedata.errors import OutcomeUnknown, UpstreamError
from app.acedata.schemas import ErrorInfo, read_result
from app.archive.service import files_of_task
from app.callbacks import credentials
from app.callbacks.models import Delivery
from app.callbacks.service import Inbound, ingest
from app.config import Settings
from app.errors import NotFound, Unprocessable, database_unavailable, is_outage
from app.idempotency import service as idempotency
from app.ids import new_id
from app.log import get_logger
from app.pagination import NUL
from app.statements import Statements
from app.tasks.models import Task
from app.tasks.schemas import SubmitRequest
from app.vocabulary import TaskKind, TaskStatus

log = get_logger("fishhook.tasks")

# Submit's two writes, as plain SQL: in py-spy, the ORM's unit of work was 45-50 % of a
# submit's samples, and Core statements still spent about a quarter in SQLAlchemy. Each runs
# on its own on the hot paths' pool (app/statements.py), and may run twice: the insert of a
# new id conflicts only with itself. With an Idempotency-Key, the insert joins the key's
# transaction on the session instead.
_INSERT_TASK = """
INSERT INTO tasks (id, kind, status, input, webhook_url, fish_api)
VALUES ($1, $2, 'pending', $3, $4, $5)
ON CONFLICT (id) DO NOTHING
"""
_ACCEPT = """
UPDATE tasks SET
    task_id = coalesce(task_id, $2),
    trace_id = coalesce(trace_id, $3),
    status = CASE WHEN status = 'pending' THEN 'submitted' ELSE status END,
    next_check_at = CASE WHEN status = 'pending' THEN now() + make_interval(secs => $4)
                         ELSE next_check_at END,
    updated_at = CASE WHEN status = 'pending' THEN now() ELSE updated_at END
WHERE id = $1 AND (status = 'pending' OR task_id IS NULL)
RETURNING *
"""

# Answers that tell the client to try again (AceData's outage, rate limit, timeout).
RETRYABLE_STATUSES = frozenset({502, 503, 504})


async def submit(
    session: AsyncSession,
    acedata: AceDataClient,
    *,
    kind: TaskKind,
    request: SubmitRequest,
    settings: Settings,
    statements: Statements,
    callback_secret: bytes,
    idempotency_key: str | None = None,
    fish_api: str | None = None,
) -> tuple[Task, bool]:
    """Store the task, then ask AceData; the task is committed before AceData is called,
    so a callback that beats AceData's answer still finds it.

    Returns the task and whether the answer is a replay: True when an earlier request with
    the same Idempotency-Key created the task and this one created nothing. `fish_api`: the
    /fish endpoint a drop-in client called (app/fish), so its webhook gets AceData's body."""
    acedata.require_token()
    webhook = await _checked_webhook(request, allow_private=settings.relay_allow_private)
    task_input = request.model_dump(mode="json", exclude_none=True)
    new = _NewTask(new_id("tsk"), kind, task_input, webhook, fish_api)
    ref, replayed = await _claim_task(session, statements, new, idempotency_key, settings)
    if replayed:
        return await get(session, ref), True
    callback_url = credentials.callback_url(settings.public_url, callback_secret, ref)
    answer = await _call_acedata(
        session, acedata, kind, request, ref, callback_url, idempotency_key
    )
    if answer is None:
        return await get(session, ref), False
    task = await _accepted(statements, ref, answer, settings)
    if read_result(answer) is not None:
        # The answer is the finished result itself: applied like a callback.
        await ingest(session, Inbound.of_answer("submit", answer), task_ref=ref, authenticated=True)
        task = None
    return task or await get(session, ref), False


async def _checked_webhook(request: SubmitRequest, *, allow_private: bool) -> str | None:
    """The request's callback_url, refused (422) if it points somewhere relays may not go."""
    webhook = str(request.callback_url) if request.callback_url else None
    if webhook is not None:
        try:
            await safety.check(webhook, allow_private=allow_private)
        except safety.UnsafeURL as exc:
            raise Unprocessable(str(exc), code="unsafe_callback_url") from None
    return webhook


@dataclass(frozen=True, slots=True)
class _NewTask:
    """_INSERT_TASK's parameters."""

    id: str
    kind: TaskKind
    input: dict[str, Any]
    webhook_url: str | None
    fish_api: str | None


async def _claim_task(
    session: AsyncSession,
    statements: Statements,
    new: _NewTask,
    idempotency_key: str | None,
    settings: Settings,
) -> tuple[str, bool]:
    """Commit a new pending task; returns its id and False. If the Idempotency-Key was
    already used, nothing is created: returns the id of the task it created, and True."""
    if idempotency_key is None:
        await statements.fetchrow(
            _INSERT_TASK,
            *(new.id, new.kind, new.input, new.webhook_url, new.fish_api),
            wait=settings.db_pool_timeout,
        )
        return new.id, False
    fingerprint = idempotency.fingerprint(new.kind, new.input)
    claim = await idempotency.claim(
        session, idempotency_key, fingerprint, new.id, settings.idempotency_ttl
    )
    if not claim.first:
        await session.rollback()
        return claim.task_ref, True
    # In the claim's transaction. SQLAlchemy's asyncpg dialect takes jsonb as JSON text.
    connection = await session.connection()
    driver: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
    try:
        await driver.execute(
            _INSERT_TASK, new.id, new.kind, json.dumps(new.input), new.webhook_url, new.fish_api
        )
    except Exception as exc:
        if is_outage(exc):
            raise database_unavailable() from exc
        raise
    await session.commit()
    return new.id, False


async def _call_acedata(
    session: AsyncSession,
    acedata: AceDataClient,
    kind: TaskKind,
    request: SubmitRequest,
    ref: str,
    callback_url: str,
    idempotency_key: str | None,
) -> dict[str, Any] | None:
    """AceData's answer to the job of task `ref`, which carries a task_id. None when it is
    unknown whether the job exists (the task stays pending). A failure fails the task and
    is raised."""
    body, headers = request.upstream()
    body["callback_url"] = callback_url
    try:
        answer = await acedata.post(request.upstream_path, body, headers)
        task_id = answer.get("task_id")
        if not isinstance(task_id, str) or not task_id:
            raise UpstreamError(
                ErrorInfo("upstream_invalid_response", "AceData's answer has no task_id", None)
            )
    except OutcomeUnknown as unknown:
        # Not re-sent (that could bill a second job) and not failed (the job may exist and
        # call back, which applies through the task's own callback URL). Reconciliation
        # expires it if nothing comes.
        await _mark_outcome_unknown(session, ref, unknown.task_error())
        return None
    except UpstreamError as error:
        # A 502/503/504 tells the client to retry: its Idempotency-Key must then submit
        # afresh rather than replay this failure. A 4xx (its own mistake) stays replayed.
        retryable = error.status in RETRYABLE_STATUSES
        release = idempotency_key if retryable else None
        await _fail(session, ref, error.task_error(), release_key=release)
        raise
    log.info("task_submitted", task=ref, kind=kind, task_id=task_id)
    return answer


async def _accepted(
    statements: Statements, ref: str, answer: dict[str, Any], settings: Settings
) -> Task | None:
    """Store AceData's acceptance. A callback may have finished the task meanwhile: then only
    a missing task_id (and trace_id) is filled in, and its status, schedule and updated_at stay:
    None, the task is to be read as it stands."""
    trace_id = answer.get("trace_id") if isinstance(answer.get("trace_id"), str) else None
    args = (ref, answer["task_id"], trace_id, settings.reconcile_after)
    # AceData has taken the job: a 503 now would have a client without an Idempotency-Key
    # submit (and pay for) it twice, so this waits for a connection at least as long as a
    # status read does, not the short wait of a new submit.
    wait = max(settings.db_pool_timeout, settings.db_read_pool_timeout)
    row = await statements.fetchrow(_ACCEPT, *args, wait=wait)
    # A Task outside any session, from the row: loading it into a session costs more.
    return Task(**row) if row is not None else None


async def _mark_outcome_unknown(session: AsyncSession, ref: str, error: dict[str, Any]) -> None:
    await session.execute(
        update(Task)
        .where(Task.id == ref, Task.status == TaskStatus.PENDING)
        .values(error=error, updated_at=func.now())
    )
    await session.commit()


async def _fail(
    session: AsyncSession, ref: str, error: dict[str, Any], *, release_key: str | None = None
) -> None:
    """Mark the task failed; with `release_key`, free that Idempotency-Key in the same
    transaction, so no retry can see the key without the failure or the failure without it."""
    await session.execute(
        update(Task)
        .where(Task.id == ref, Task.status == TaskStatus.PENDING)
        .values(
            status=TaskStatus.FAILED, error=error, finished_at=func.now(), updated_at=func.now()
        )
    )
    if release_key is not None:
        await idempotency.release(session, release_key, ref)
    await session.commit()


def _with_delivery_count() -> Any:
    # A correlated count over ix_deliveries_task_ref: same round trip, a handful of index rows.
    count = (
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.task_ref == Task.id)
        .scalar_subquery()
    )
    return with_expression(Task.deliveries, count)


def with_files() -> Any:
    """Fills Task.archive with the task's archived files, in the same round trip."""
    return with_expression(Task.archive, files_of_task(Task.id))


# Built once: every read of a task by id, long-polls included, runs this statement.
_BY_ID_OR_TASK_ID = (
    select(Task)
    .where(or_(Task.id == bindparam("ref"), Task.task_id == bindparam("ref")))
    .options(_with_delivery_count(), with_files())
    .execution_options(populate_existing=True)
)


async def get(session: AsyncSession, task_ref: str) -> Task:
    """A task by `task_ref`: fishhook's id or AceData's task_id."""
    if NUL in task_ref:
        # No stored id can hold one (PostgreSQL text cannot), and the query would fail.
        raise NotFound(f"no task {task_ref!r}", code="task_not_found")
    task = await session.scalar(_BY_ID_OR_TASK_ID, {"ref": task_ref})
    if task is None:
        raise NotFound(f"no task {task_ref!r}", code="task_not_found")
    return task


async def page(
    session: AsyncSession,
    *,
    status: str | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Task], str | None]:
    """Newest first (see app/pagination.py)."""
    query = select(Task).options(_with_delivery_count(), with_files())
    if status:
        query = query.where(Task.status == status)
    if kind:
        query = query.where(Task.kind == kind)
    return await pagination.page(session, query, Task.id, limit=limit, cursor=cursor)
