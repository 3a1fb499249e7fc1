"""/v1 task endpoints: submit voices and speech, read tasks."""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from starlette.types import Receive, Scope, Send

from app import tracing
from app.deps import (
    ApiKeyDep,
    ReaderDep,
    RuntimeDep,
    SessionDep,
    SettingsDep,
)
from app.errors import render_error
from app.idempotency.service import KEY_PATTERN, check_key
from app.keys import check_api_key
from app.middleware.request_log import BareRoute
from app.openapi import problems
from app.pagination import PageDep
from app.tasks import service
from app.tasks.schemas import SpeechRequest, TaskOut, TaskPage, VoiceRequest
from app.tasks.waiting import MAX_WAIT, wait_for_read
from app.vocabulary import TaskKind, TaskStatus

if TYPE_CHECKING:  # the runtime is built from the features, tasks among them
    from app.runtime import Runtime

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


Submit = Callable[[TaskKind, VoiceRequest | SpeechRequest], Awaitable[Response]]


async def _submitter(
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> Submit:
    """What both submit endpoints do with their body."""
    key = check_key(idempotency_key) if idempotency_key is not None else None

    async def submit(kind: TaskKind, body: VoiceRequest | SpeechRequest) -> Response:
        with tracing.span("fishhook.submit", **{"fishhook.kind": kind}) as span:
            task, replayed = await service.submit(
                session,
                runtime.acedata,
                kind=kind,
                request=body,
                settings=runtime.settings,
                statements=runtime.statements,
                callback_secret=runtime.keys.callback_secret,
                idempotency_key=key,
            )
            span.set_attribute("fishhook.task", task.id)
            span.set_attribute("fishhook.task_id", task.task_id or "")
        # Serialised once: returned as a model, FastAPI would validate it again first.
        answer = TaskOut.of(task, runtime.settings.public_url).model_dump_json()
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return Response(answer, status_code=202, headers=headers, media_type="application/json")

    return submit


SubmitDep = Annotated[Submit, Depends(_submitter)]


@router.post("/voices", status_code=202, response_model=TaskOut, responses=SUBMIT_ERRORS)
async def create_voice(body: VoiceRequest, submit: SubmitDep) -> Response:
    return await submit(TaskKind.VOICE, body)


@router.post("/speech", status_code=202, response_model=TaskOut, responses=SUBMIT_ERRORS)
async def create_speech(body: SpeechRequest, submit: SubmitDep) -> Response:
    return await submit(TaskKind.SPEECH, body)


READ_PREFIX = "/v1/tasks/"
_READ = BareRoute(READ_PREFIX + "{task_ref}")  # read_task_endpoint's, for the access log


@router.get("/tasks/{task_ref}", response_model=TaskOut, responses=problems(404))
async def read_task(
    task_ref: str,
    runtime: RuntimeDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> Response:
    """`?wait=N`: answer once the task is finished, or after N seconds as it stands.
    Without a query string, main.Fishhook serves it from read_task_endpoint instead."""
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


def is_plain_read(scope: Scope) -> bool:
    """GET /v1/tasks/{task_ref} without a query string: what pollers repeat most."""
    path: str = scope["path"]
    return (
        scope["method"] == "GET"
        and path.startswith(READ_PREFIX)
        and not scope["query_string"]
        and "/" not in path[len(READ_PREFIX) :]
        and len(path) > len(READ_PREFIX)
    )


async def read_task_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """read_task for a plain read (is_plain_read), as a bare ASGI endpoint: routing through
    FastAPI's ~60 routes and solving the route's dependencies cost more than the read
    itself. Same checks, same answers, same error handlers."""
    request = Request(scope, receive)
    runtime: Runtime = request.app.state.runtime
    scope["route"] = _READ  # for the access log and the metrics' route label
    try:
        check_api_key(runtime.settings, request.headers.get("authorization"))
        task = await runtime.reads.task(scope["path"][len(READ_PREFIX) :])
        response = Response(task.model_dump_json(), media_type="application/json")
    except Exception as exc:
        response = await render_error(request, exc)
    await response(scope, receive, send)
