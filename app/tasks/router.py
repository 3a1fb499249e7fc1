"""/v1 task endpoints: submit voices and speech, read tasks."""

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import tracing
from app.config import Settings
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


async def submit_task(
    session: AsyncSession,
    runtime: "Runtime",
    kind: TaskKind,
    body: VoiceRequest | SpeechRequest,
    key: str | None,
) -> Response:
    """What both submit endpoints do with their body, on either path (see submit_endpoint)."""
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


async def _submitter(
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> Submit:
    key = check_key(idempotency_key) if idempotency_key is not None else None
    return lambda kind, body: submit_task(session, runtime, kind, body, key)


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


_SUBMITS: dict[str, tuple[TaskKind, type[VoiceRequest] | type[SpeechRequest]]] = {
    "/v1/voices": (TaskKind.VOICE, VoiceRequest),
    "/v1/speech": (TaskKind.SPEECH, SpeechRequest),
}
_SUBMIT_ROUTES = {path: BareRoute(path) for path in _SUBMITS}


def is_submit(scope: Scope) -> bool:
    return scope["method"] == "POST" and scope["path"] in _SUBMITS


async def submit_endpoint(scope: Scope, receive: Receive, send: Send, framework: ASGIApp) -> None:
    """POST /v1/voices and /v1/speech, outside FastAPI's routing and dependency solving: in
    py-spy they were about 15 % of a submit. Only a submit that is accepted as it stands is
    served here (a JSON body that validates, a good API key, a well-formed Idempotency-Key);
    any other goes on to `framework` (FastAPI's stack) with the body it sent, and gets
    exactly the answer FastAPI gives it."""
    request = Request(scope, receive)
    scope["route"] = _SUBMIT_ROUTES[scope["path"]]  # FastAPI sets its own if it takes over
    try:
        body = await request.body()
    except HTTPException as exc:  # too large or too slow, answered as FastAPI's handlers do
        await (await render_error(request, exc))(scope, receive, send)
        return
    except Exception:  # the client went away: FastAPI's own answer to that
        await framework(scope, receive, send)
        return
    runtime: Runtime = request.app.state.runtime
    plain = _plain_submit(runtime.settings, request, body)
    if plain is None:
        await framework(scope, _replay(body, receive), send)
        return
    try:
        async with runtime.sessionmaker() as session:
            response = await submit_task(session, runtime, *plain)
    except Exception as exc:
        response = await render_error(request, exc)
    await response(scope, receive, send)


def _plain_submit(
    settings: Settings, request: Request, body: bytes
) -> tuple[TaskKind, VoiceRequest | SpeechRequest, str | None] | None:
    """The kind, body and Idempotency-Key of a submit FastAPI would accept; None otherwise."""
    headers = request.headers
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    key = headers.get("idempotency-key")
    try:
        check_api_key(settings, headers.get("authorization"))
        if media_type != "application/json":
            return None
        if key is not None:
            check_key(key)
        kind, model = _SUBMITS[request.url.path]
        # As FastAPI reads a JSON body: json.loads, then the model from the Python value.
        return kind, model.model_validate(json.loads(body)), key
    except Exception:  # refused, unreadable (RecursionError too): FastAPI answers it
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for a request whose body was read already: the body first, then the rest."""
    replayed = False

    async def again() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again
