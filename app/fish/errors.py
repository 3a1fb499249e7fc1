"""Errors on /fish/*, in AceData's shape and with AceData's codes, so its SDK raises the right
exception: `{"success": false, "error": {"code", "message"}, "trace_id"}`.

Every error fishhook knows (AppError, UpstreamError, Starlette's HTTPException, validation,
database outages) is translated here; the /v1 handlers in app/errors.py are not involved,
because the /fish sub-application (app/fish/app.py) installs only these.
"""

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.acedata.errors import UpstreamError
from app.errors import (
    DATABASE_ERRORS,
    AppError,
    Handlers,
    install_error_handlers,
    is_outage,
    is_refused_value,
)
from app.log import get_logger, request_id

log = get_logger("fishhook.fish")

# AceData's codes and the HTTP status it answers each with (DESIGN.md section 1).
STATUS = {
    "bad_request": 400,
    "no_token": 400,
    "token_mismatched": 400,
    "api_not_implemented": 400,
    "disabled": 400,
    "invalid_token": 401,
    "token_expired": 401,
    "used_up": 403,
    "forbidden": 403,
    "no_api": 404,
    "not_found": 404,
    "request_too_large": 413,
    "too_many_requests": 429,
    "api_error": 500,
    "busy": 500,
    "timeout": 504,
}
# AceData refused fishhook's own upstream token: the client's key is fine, fishhook is not.
_UPSTREAM_AUTH = frozenset({"invalid_token", "token_expired", "no_token", "token_mismatched"})
_UPSTREAM_TIMEOUTS = frozenset({"upstream_timeout", "upstream_outcome_unknown"})
# fishhook's own refusals, by their HTTP status, as the nearest AceData code.
_BY_STATUS = {
    400: "bad_request",
    401: "invalid_token",
    404: "no_api",
    405: "no_api",  # AceData routes by method and path: a wrong method is an unknown API
    409: "bad_request",
    413: "request_too_large",
    415: "bad_request",
    422: "bad_request",
    429: "too_many_requests",
    504: "timeout",
}


class FishError(Exception):
    """An answer in AceData's error shape."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        trace_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, 500)
        self.trace_id = trace_id
        self.headers = headers or {}


def trace_id() -> str:
    """fishhook's request id (also its X-Request-ID header), for answers AceData gave none."""
    return request_id.get() or str(uuid.uuid4())


def render(exc: FishError) -> JSONResponse:
    body: dict[str, Any] = {
        "success": False,
        "error": {"code": exc.code, "message": exc.message},
        "trace_id": exc.trace_id or trace_id(),
    }
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


def from_upstream(error: UpstreamError) -> FishError:
    code, message, trace_id = error.info.code, error.info.message, error.info.trace_id
    if code in _UPSTREAM_AUTH:
        message = f"AceData refused fishhook's upstream token ({code}): {message}"
        return FishError("api_error", message, trace_id=trace_id)
    if code in _UPSTREAM_TIMEOUTS:
        return FishError("timeout", message, trace_id=trace_id)
    if code in STATUS:
        return FishError(code, message, trace_id=trace_id, headers=error.headers)
    return FishError("api_error", message, trace_id=trace_id)


def from_app_error(error: AppError) -> FishError:
    if isinstance(error, UpstreamError):
        return from_upstream(error)
    if error.status == 503:  # fishhook's database or pool is overloaded: come back soon
        return FishError("busy", error.detail, headers=error.headers)
    code = _BY_STATUS.get(error.status, "api_error")
    return FishError(code, error.detail, headers=error.headers)


async def _fish_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FishError)
    return render(exc)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return render(from_app_error(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _BY_STATUS.get(exc.status_code, "api_error")
    if code == "no_api":
        message = f"The API {request.method} {request.url.path} does not exist."
    else:
        message = str(exc.detail)
    status = STATUS.get(code, exc.status_code)
    return render(FishError(code, message, status=status))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
        problems.append(f"{where}: {err.get('msg', '')}" if where else str(err.get("msg", "")))
    return render(FishError("bad_request", "; ".join(problems) or "invalid request"))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    if is_outage(exc):
        log.warning("database_unavailable", error=type(exc).__name__)
        retry = {"Retry-After": "1"}
        return render(FishError("busy", "fishhook's database is unavailable", headers=retry))
    if is_refused_value(exc):
        return render(FishError("bad_request", "a value in the request cannot be stored"))
    log.exception("unhandled_error", exc_info=exc)
    return render(FishError("api_error", "an unexpected error occurred"))


_HANDLERS: Handlers = {
    FishError: _fish_error,
    AppError: _app_error,
    HTTPException: _http_error,
    RequestValidationError: _validation_error,
    # _unexpected tells an outage (busy) from a refused value (bad_request) and a bug.
    **dict.fromkeys(DATABASE_ERRORS, _unexpected),
    Exception: _unexpected,
}


def install(app: FastAPI) -> None:
    install_error_handlers(app, _HANDLERS)
