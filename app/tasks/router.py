"""/v1 task endpoints: submit voices and speech, read tasks."""

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.acedata.client import AceDataClient
from app.config import Settings
from app.deps import (
    AceDataDep,
    ApiKeyDep,
    KeysDep,
    ReaderDep,
    RuntimeDep,
    SessionDep,
    SettingsDep,
)
from app.idempotency.service import check_key
from app.keys import Keys
from app.tasks import service
from app.tasks.schemas import SpeechRequest, TaskOut, TaskPage, VoiceRequest
from app.tasks.waiting import MAX_WAIT, wait_for

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]

router = APIRouter(prefix="/v1", tags=["tasks"], dependencies=[ApiKeyDep])


@dataclass(frozen=True, slots=True)
class Submission:
    """What both submit endpoints need besides their body."""

    session: AsyncSession
    acedata: AceDataClient
    keys: Keys
    settings: Settings
    response: Response
    idempotency_key: str | None


async def _submission(
    session: SessionDep,
    acedata: AceDataDep,
    keys: KeysDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Submission:
    key = check_key(idempotency_key) if idempotency_key is not None else None
    return Submission(session, acedata, keys, settings, response, key)


SubmissionDep = Annotated[Submission, Depends(_submission)]


async def _submit(kind: str, body: VoiceRequest | SpeechRequest, sub: Submission) -> TaskOut:
    settings = sub.settings
    task, replayed = await service.submit(
        sub.session,
        sub.acedata,
        kind=kind,
        request=body,
        public_url=settings.public_url,
        callback_secret=sub.keys.callback_secret,
        reconcile_after=settings.reconcile_after,
        idempotency_key=sub.idempotency_key,
        idempotency_ttl=settings.idempotency_ttl,
        allow_private=settings.relay_allow_private,
    )
    if replayed:
        sub.response.headers["Idempotent-Replayed"] = "true"
    return TaskOut.of(task)


@router.post("/voices", status_code=202)
async def create_voice(body: VoiceRequest, submission: SubmissionDep) -> TaskOut:
    return await _submit("voice", body, submission)


@router.post("/speech", status_code=202)
async def create_speech(body: SpeechRequest, submission: SubmissionDep) -> TaskOut:
    return await _submit("speech", body, submission)


@router.get("/tasks/{task_id}", response_model=TaskOut)
async def read_task(
    task_id: str,
    runtime: RuntimeDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> Response:
    """`?wait=N`: answer once the task is finished, or after N seconds as it stands."""
    if wait:
        task = await wait_for(runtime.reads, runtime.waiters, task_id, wait)
    else:
        task = await runtime.reads.task(task_id)
    # Serialised once, not validated again on the way out.
    return Response(task.model_dump_json(), media_type="application/json")


@router.get("/tasks")
async def list_tasks(
    session: ReaderDep,
    status: Literal["pending", "submitted", "succeeded", "failed", "expired"] | None = None,
    kind: Literal["voice", "speech"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> TaskPage:
    tasks, next_cursor = await service.page(
        session, status=status, kind=kind, limit=limit, cursor=cursor
    )
    return TaskPage(items=[TaskOut.of(t) for t in tasks], next_cursor=next_cursor)
