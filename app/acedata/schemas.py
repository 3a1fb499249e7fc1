"""Lenient reading of AceData's bodies: callbacks, task records and error answers vary in shape."""

from dataclasses import dataclass
from typing import Any, Literal

# AceData's error codes by HTTP status, for bodies that carry only a status.
CODE_BY_STATUS = {
    400: "bad_request",
    401: "invalid_token",
    403: "forbidden",
    404: "no_api",
    413: "request_too_large",
    429: "too_many_requests",
    500: "api_error",
    502: "api_error",
    503: "busy",
    504: "timeout",
}

_VOICE_FIELDS = (
    "title",
    "description",
    "state",
    "train_mode",
    "cover_image",
    "languages",
    "tags",
    "default_text",
    "visibility",
)


@dataclass(frozen=True, slots=True)
class Result:
    """What a callback body (or a finished task record's `response`) means for the task."""

    status: Literal["succeeded", "failed"]
    output: dict[str, Any] | None
    error: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    code: str
    message: str
    trace_id: str | None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_error(body: Any, http_status: int | None = None) -> ErrorInfo | None:
    """The error in any of AceData's three shapes, or None when the body reports none.

    `{"success": false, "error": {code, message}}`, `{"error": {...}}` without `success`,
    `{"error": "text"}`, and the tts shape `{"status": 400, "message": "..."}`.
    """
    if not isinstance(body, dict):
        return None
    trace_id = _text(body.get("trace_id"))
    error = body.get("error")
    if isinstance(error, dict):
        fallback = CODE_BY_STATUS.get(http_status or 0, "upstream_error")
        code = _text(error.get("code")) or fallback
        return ErrorInfo(code, _text(error.get("message")) or code, trace_id)
    if isinstance(error, str) and error:
        return ErrorInfo(CODE_BY_STATUS.get(http_status or 0, "upstream_error"), error, trace_id)
    status = body.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
        code = CODE_BY_STATUS.get(status, "upstream_error")
        return ErrorInfo(code, _text(body.get("message")) or code, trace_id)
    if body.get("success") is False:
        message = _text(body.get("message")) or "AceData reported a failure"
        return ErrorInfo("upstream_error", message, trace_id)
    return None


def _output(body: dict[str, Any]) -> dict[str, Any]:
    output: dict[str, Any] = {}
    data = body.get("data")
    if isinstance(data, dict):
        if isinstance(data.get("_id"), str):
            output["voice_id"] = data["_id"]
        output.update({key: data[key] for key in _VOICE_FIELDS if key in data})
        if isinstance(data.get("audio_url"), str):
            output["audio_url"] = data["audio_url"]
    elif isinstance(data, list):
        urls = [i["audio_url"] for i in data if isinstance(i, dict) and _text(i.get("audio_url"))]
        if urls:
            output["audio_url"] = urls[0]
        if len(urls) > 1:
            output["audio_urls"] = urls
    if isinstance(body.get("audio_url"), str):
        output["audio_url"] = body["audio_url"]
    return output


def read_result(body: dict[str, Any]) -> Result | None:
    """The task's final state carried by a callback body, or None if it carries none."""
    error = read_error(body)
    if error is not None:
        return Result("failed", None, {"code": error.code, "message": error.message})
    output = _output(body)
    if output or body.get("success") is True:
        return Result("succeeded", output, None)
    return None


def finished_response(record: Any) -> dict[str, Any] | None:
    """A /fish/tasks record's `response` once the task is finished, else None."""
    if not isinstance(record, dict) or record.get("finished_at") is None:
        return None
    response = record.get("response")
    return response if isinstance(response, dict) else None
