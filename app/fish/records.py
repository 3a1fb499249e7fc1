"""fishhook's tasks in AceData's shapes: submit answers, /fish/tasks records, callback bodies.

A finished task's AceData body is exactly what AceData delivered (the task's `result`), so
a drop-in client reads the same bytes it would have read from AceData. Only a task that
ended without a body from AceData (expired, or refused) gets one made in AceData's failure
shape.
"""

from datetime import datetime
from typing import Any

from app.acedata.schemas import read_error
from app.fish.errors import STATUS
from app.tasks.models import Task

# The `type` of AceData's task records, by endpoint (tasks_retrieve_*.json).
TYPES = {"tts": "fish_tts", "voices": "voices", "audios": "audios", "model": "model"}
# /v1 tasks have no fish_api: their endpoint follows from their kind.
_API_OF_KIND = {"speech": "tts", "voice": "voices"}
FINISHED = ("succeeded", "failed", "expired")


def api_of(kind: str, fish_api: str | None) -> str:
    return fish_api or _API_OF_KIND.get(kind, kind)


def epoch(moment: datetime) -> float:
    """AceData's records carry epoch seconds (tasks_retrieve_finished.json)."""
    return round(moment.timestamp(), 3)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def finished_body(
    *,
    status: str,
    task_id: str,
    trace_id: str | None,
    result: Any,
    error: Any,
) -> dict[str, Any] | None:
    """The body AceData called back with (or would have), once the task is finished."""
    if status not in FINISHED:
        return None
    if status != "expired" and isinstance(result, dict):
        return result
    if status == "succeeded":  # finished without a body: not a path fishhook takes today
        return {"success": True, "task_id": task_id}
    known = error if isinstance(error, dict) else {}
    if status == "expired":
        code = "timeout"
        message = "fishhook stopped waiting: AceData sent no result within FISHHOOK_TASK_TIMEOUT"
    else:
        code = str(known.get("code"))
        code = code if code in STATUS else "api_error"
        message = str(known.get("message") or "the task failed")
    body: dict[str, Any] = {
        "success": False,
        "task_id": task_id,
        "error": {"code": code, "message": message},
    }
    if trace_id:
        body["trace_id"] = trace_id
    return body


def relay_body(task: dict[str, Any]) -> dict[str, Any] | None:
    """What a /fish client's own callback_url gets for a task snapshot (relay_messages.task);
    None when AceData never took the job: the client had the refusal in its submit's answer,
    and AceData would call back nothing."""
    task_id = task.get("task_id")
    if not isinstance(task_id, str):
        return None
    return finished_body(
        status=str(task.get("status")),
        task_id=task_id,
        trace_id=task.get("trace_id"),
        result=task.get("result"),
        error=task.get("error"),
    )


def _body(task: Task) -> dict[str, Any] | None:
    return finished_body(
        status=task.status,
        task_id=task.task_id or task.id,
        trace_id=task.trace_id,
        result=task.result,
        error=task.error,
    )


def record(task: Task) -> dict[str, Any]:
    """The task as AceData's POST /fish/tasks shows it: no `finished_at` while it runs,
    and then `response` is the callback body (what the SDK's poller looks at)."""
    response = _body(task)
    shown: dict[str, Any] = {
        "id": task.task_id or task.id,
        "trace_id": task.trace_id,
        "type": TYPES.get(api_of(task.kind, task.fish_api), task.kind),
        "created_at": epoch(task.created_at),
        "started_at": epoch(task.created_at),
        "request": task.input,
        "response": response,
    }
    if response is not None:
        finished_at = task.finished_at or task.updated_at
        shown["finished_at"] = epoch(finished_at)
        shown["elapsed"] = round((finished_at - task.created_at).total_seconds(), 3)
    return shown


def accepted(task: Task) -> dict[str, Any]:
    """AceData's immediate answer with async or a callback_url (tts_submit_response_async.json)."""
    answer: dict[str, Any] = {"task_id": task.task_id}
    if api_of(task.kind, task.fish_api) == "tts":
        answer["started_at"] = iso(task.created_at)
    return answer


def finished(task: Task) -> tuple[int, dict[str, Any]] | None:
    """AceData's blocking answer (HTTP status, body), once the task is finished; else None."""
    body = _body(task)
    if body is None:
        return None
    body = dict(body)
    if task.trace_id:
        body.setdefault("trace_id", task.trace_id)
    if task.status == "succeeded":
        return 200, body
    error = read_error(body)
    code = error.code if error is not None else "api_error"
    return STATUS.get(code, 500), body
