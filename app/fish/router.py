"""/fish/* routes: AceData's paths, bodies and `model` header, answered as AceData answers."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.responses import JSONResponse

from app.deps import AceDataDep, ReaderDep, RuntimeDep, SessionDep, SettingsDep
from app.fish import service
from app.fish.errors import FishError
from app.fish.schemas import FishAudios, FishModel, FishTts, FishVoices
from app.idempotency.service import check_key
from app.keys import api_key_matches
from app.tasks.router import IdempotencyKey
from app.vocabulary import TaskKind


async def require_fish_key(request: Request, settings: SettingsDep) -> None:
    """`authorization: Bearer <fishhook API key>`, with AceData's codes; open without keys."""
    if not settings.api_keys:
        return
    authorization = request.headers.get("authorization")
    if not authorization:
        raise FishError("no_token", "Token is required in the authorization header.")
    if not api_key_matches(settings, authorization):
        raise FishError("invalid_token", "The specified token is invalid or wrong.")


async def _submission(
    session: SessionDep, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None
) -> service.Submission:
    key = check_key(idempotency_key) if idempotency_key is not None else None
    return service.Submission(session, runtime, key)


SubmissionDep = Annotated[service.Submission, Depends(_submission)]
router = APIRouter(dependencies=[Depends(require_fish_key)])
TtsModel = Annotated[Literal["s1", "s2-pro", "s2.1-pro"] | None, Header()]


def _json(answer: service.Answer) -> JSONResponse:
    status, body = answer
    return JSONResponse(body, status_code=status)


async def _submitted(
    sub: service.Submission,
    kind: TaskKind,
    api: str,
    request: FishTts | FishVoices | FishAudios | FishModel,
) -> JSONResponse:
    """Submit like POST /v1/*; blocking unless the body asks for `async` or a callback_url."""
    answer = await service.submit(
        sub, kind=kind, api=api, request=request, blocking=request.blocking
    )
    return _json(answer)


@router.post("/tts")
async def tts(body: FishTts, sub: SubmissionDep, model: TtsModel = None) -> JSONResponse:
    request = body.model_copy(update={"model": model}) if model else body
    return await _submitted(sub, TaskKind.SPEECH, "tts", request)


@router.post("/voices")
async def voices(body: FishVoices, sub: SubmissionDep) -> JSONResponse:
    return await _submitted(sub, TaskKind.VOICE, "voices", body)


@router.post("/audios")
async def audios(body: FishAudios, sub: SubmissionDep) -> JSONResponse:
    return await _submitted(sub, TaskKind.SPEECH, "audios", body)


@router.post("/model")
async def create_model(body: FishModel, sub: SubmissionDep) -> JSONResponse:
    return await _submitted(sub, TaskKind.VOICE, "model", body)


@router.get("/model")
async def list_models(request: Request, acedata: AceDataDep) -> dict[str, Any]:
    return await service.read_models(acedata, None, request.query_params.multi_items())


@router.get("/model/{model_id}")
async def read_model(model_id: str, acedata: AceDataDep) -> dict[str, Any]:
    return await service.read_models(acedata, model_id, [])


@router.post("/tasks")
async def tasks(body: Annotated[dict[str, Any], Body()], session: ReaderDep) -> JSONResponse:
    return _json(await service.retrieve(session, body))
