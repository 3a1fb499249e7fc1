"""The four submit endpoints: job type, checks, and the bodies each answers and calls back with."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers

from app.simulator import bodies
from app.simulator.models import check_model, model_result
from app.simulator.state import Job
from app.simulator.validation import check_audios, check_tts, check_voices


@dataclass(frozen=True)
class SubmitKind:
    job_type: str
    check: Callable[[Any, Headers], JSONResponse | None]
    accepted: Callable[[Job], dict[str, Any]]
    # The job and the base URL of the generated files.
    success: Callable[[Job, str], dict[str, Any]]
    failure: Callable[[Job], dict[str, Any]]


def _task_id_only(job: Job) -> dict[str, Any]:
    return {"task_id": job.id}


def _tts_accepted(job: Job) -> dict[str, Any]:
    return {"task_id": job.id, "started_at": bodies.iso_utc(job.started_at)}


SUBMITS: dict[str, SubmitKind] = {
    "/fish/voices": SubmitKind(
        job_type="voices",
        check=lambda body, _headers: check_voices(body),
        accepted=_task_id_only,
        success=lambda job, _media: bodies.voice_result(job.id, job.trace_id, job.request),
        failure=lambda job: bodies.failure(
            job.id, job.trace_id, "voice_url could not be downloaded"
        ),
    ),
    "/fish/tts": SubmitKind(
        job_type="fish_tts",
        check=lambda body, headers: check_tts(body, headers.get("model")),
        accepted=_tts_accepted,
        success=lambda job, media: bodies.tts_result(job.id, media),
        failure=lambda job: bodies.tts_failure(job.id, job.trace_id, "speech synthesis failed"),
    ),
    "/fish/model": SubmitKind(
        job_type="model",
        check=lambda body, _headers: check_model(body),
        accepted=_task_id_only,
        success=lambda job, _media: model_result(job.id, job.trace_id, job.request),
        failure=lambda job: bodies.failure(job.id, job.trace_id, "voices could not be downloaded"),
    ),
    "/fish/audios": SubmitKind(
        job_type="audios",
        check=lambda body, _headers: check_audios(body),
        accepted=_task_id_only,
        success=lambda job, media: bodies.audios_result(job.id, job.trace_id, media),
        failure=lambda job: bodies.failure(job.id, job.trace_id, "speech synthesis failed"),
    ),
}
