"""/v1 task endpoints: submit voices and speech, read tasks."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from app import tracing
from app.deps import (
    AceDataDep,
    ApiKeyDep,
    KeysDep,
    ReaderDep,
    RuntimeDep,
    SessionDep,
    SettingsDep,
)
from app.idempotency.service import KEY_PATTERN, check_key
from app.openapi import problems
from app.pagination import PageDep
from app.tasks import service
from app.tasks.schemas import SpeechRequest, TaskOut, TaskPage, VoiceRequest
from app.tasks.waiting import MAX_WAIT, wait_for_read
from app.vocabulary import TaskKind, TaskStatus

# The pattern is checked by check_key (400 invalid_idempotency_key), not by FastAPI (422).
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Submitting again with the same key returns the first task",
        json_schema_extra={"pattern": KEY_PATTERN, "maxLength": 255},
    ),
]

router = APIRouter(
    prefix="/v1", tags=["tasks"], dependencies=[ApiKeyDep], responses=problems(400, 503)
)
# AceData's refusals and outages (app/acedata/errors.py), and the Idempotency-Key's reuse.
SUBMIT_ERRORS = problems(403, 409, 422, 502, 504)


Submit = Callable[[TaskKind, VoiceRequest | SpeechRequest], Awaitable[TaskOut]]


async def _submitter(
    session: SessionDep,
    acedata: AceDataDep,
    keys: KeysDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Submit:
    """What both submit endpoints do with their body."""
    key = check_key(idempotency_key) if idempotency_key is not None else None

    async def submit(kind: TaskKind, body: VoiceRequest | SpeechRequest) -> TaskOut:
        with tracing.span("fishhook.submit", **{"fishhook.kind": kind}) as span:
            task, replayed = await service.submit(
                session,
                acedata,
                kind=kind,
                request=body,
                settings=settings,
                callback_secret=keys.callback_secret,
                idempotency_key=key,
            )
            span.set_attribute("fishhook.task", task.id)
            span.set_attribute("fishhook.task_id", task.task_id or "")
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return TaskOut.of(task, settings.public_url)

    return submit


SubmitDep = Annotated[Submit, Depends(_submitter)]


@router.post("/voices", status_code=202, responses=SUBMIT_ERRORS)
async def create_voice(body: VoiceRequest, submit: SubmitDep) -> TaskOut:
    return await submit(TaskKind.VOICE, body)


@router.post("/speech", status_code=202, responses=SUBMIT_ERRORS)
async def create_speech(body: SpeechRequest, submit: SubmitDep) -> TaskOut:
    return await submit(TaskKind.SPEECH, body)


@router.get("/tasks/{task_ref}", response_model=TaskOut, responses=problems(404))
async def read_task(
    task_ref: str,
    runtime: RuntimeDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> Response:
    """`?wait=N`: answer once the task is finished, or after N seconds as it stands."""
    if wait:
        task = await wait_for_read(runtime.reads, runtime.waiters, task_ref, wait)
    else:
        task = await runtime.reads.task(task_ref)
    # Serialised once, not validated again on the way out.
    return Response(task.model_dump_json(), media_type="application/json")


@router.get("/tasks")
async def list_tasks(
    session: ReaderDep,
    status: TaskStatus | None = None,
    kind: TaskKind | None = None,
    *,
    listing: PageDep,
    settings: SettingsDep,
) -> TaskPage:
    tasks, next_cursor = await service.page(
        session, status=status, kind=kind, limit=listing.limit, cursor=listing.cursor
    )
    items = [TaskOut.of(t, settings.public_url) for t in tasks]
    return TaskPage(items=items, next_cursor=next_cursor)
