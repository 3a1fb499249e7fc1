"""Running submitted jobs: finishing them after a delay and POSTing their callbacks."""

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

import httpx
from fastapi.responses import JSONResponse

from app.simulator import bodies
from app.simulator.kinds import SubmitKind
from app.simulator.rules import CallbackScript
from app.simulator.state import CallbackAttempt, Job, SimState

CALLBACK_USER_AGENT = "AceDataCloud-Callback/1.0 (+https://platform.acedata.cloud)"
NORMAL = CallbackScript()


class JobRunner:
    def __init__(self, state: SimState, client: httpx.AsyncClient, callback_delay: float) -> None:
        self._state = state
        self._client = client
        self._callback_delay = callback_delay
        # Strong references: the event loop keeps only weak ones to running tasks.
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(
        self,
        kind: SubmitKind,
        body: dict[str, Any],
        script: CallbackScript | None,
        media: str = bodies.FISH_AUDIO_MEDIA_URL,
    ) -> JSONResponse:
        """Create the job; answer at once and call back later (with `async`, just finish
        later), or wait and answer the result."""
        script = script or NORMAL
        now = time.time()
        job = Job(
            id=bodies.new_uuid(),
            trace_id=bodies.new_uuid(),
            type=kind.job_type,
            request=body,
            created_at=now,
            started_at=now,
        )
        self._state.jobs[job.id] = job
        delay = self._callback_delay if script.delay is None else script.delay
        callback_url = body.get("callback_url")
        if isinstance(callback_url, str) and callback_url:
            self._spawn(self._call_back(job, kind, script, delay, callback_url, media))
            return JSONResponse(kind.accepted(job))
        if body.get("async") is True:
            self._spawn(self._call_back(job, kind, script, delay, None, media))
            return JSONResponse(kind.accepted(job))
        await asyncio.sleep(delay)
        if script.mode == "never":
            return JSONResponse(bodies.timeout(), status_code=504)
        result = self._outcome(job, kind, script, media)
        self._finish(job, result)
        answer = {**result}
        answer.setdefault("trace_id", job.trace_id)
        return JSONResponse(answer, status_code=400 if script.mode == "failure" else 200)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _outcome(job: Job, kind: SubmitKind, script: CallbackScript, media: str) -> dict[str, Any]:
        if script.body is not None:
            body = {**script.body}
            body.setdefault("task_id", job.id)
            return body
        if script.mode == "failure":
            return kind.failure(job)
        return kind.success(job, media)

    def _finish(self, job: Job, result: dict[str, Any]) -> None:
        job.finish(result, time.time())
        self._state.remember_model(result)

    async def _call_back(
        self,
        job: Job,
        kind: SubmitKind,
        script: CallbackScript,
        delay: float,
        url: str | None,
        media: str,
    ) -> None:
        """Finish the job after `delay`, then POST its callback to `url` (None: `async`
        without a callback_url, where the result is only retrievable from /fish/tasks)."""
        await asyncio.sleep(delay)
        if script.mode == "never":
            return
        body = self._outcome(job, kind, script, media)
        # Finished before the POST: a lost callback is still recoverable through /fish/tasks.
        self._finish(job, body)
        if script.mode == "lost" or url is None:
            return
        for _ in range(script.copies if script.mode == "duplicate" else 1):
            await self._post(job.id, url, body)

    async def _post(self, task_id: str, url: str, body: dict[str, Any]) -> None:
        """One attempt, recorded whatever happens; AceData does not retry callbacks."""
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(
                url, json=body, headers={"user-agent": CALLBACK_USER_AGENT}
            )
            status = response.status_code
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._state.callbacks.append(
            CallbackAttempt(
                task_id=task_id, url=url, body=body, status=status, error=error, time=time.time()
            )
        )
