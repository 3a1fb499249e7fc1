"""Every error answer: the AppError tree and the handlers that render application/problem+json.

    AppError                      (status, code, title; rendered as problem+json)
     +-- NotFound                 404 not_found
     +-- Unauthorized             401 unauthorized
     +-- Conflict                 409 conflict
     +-- Unprocessable            422 (a well-formed request fishhook will not act on)
     +-- ServiceUnavailable       503 (database down, pool exhausted, upstream not configured)
     +-- BadRequest               400 (a malformed header, cursor, ...)
     +-- UpstreamError            AceData said no, or could not be reached (see acedata.errors)

Starlette's HTTPException (404 for unknown paths, 405, 413 from the body limit) and
request validation errors are rendered the same way, so no answer is ever a bare 500;
a value PostgreSQL refuses (sqlalchemy DataError) is 400 invalid_input, never a 500.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from app.log import get_logger

log = get_logger("fishhook.errors")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra

    def __init_subclass__(cls, **answer: Any) -> None:
        """A subclass names its answer in its header: `status=404, code=..., title=...`."""
        super().__init_subclass__()
        for name, value in answer.items():
            setattr(cls, name, value)


class NotFound(AppError, status=404, code="not_found", title="Not found"): ...


class Unauthorized(AppError, status=401, code="unauthorized", title="Unauthorized"): ...


class Conflict(AppError, status=409, code="conflict", title="Conflict"): ...


class Unprocessable(AppError, status=422, code="unprocessable", title="Unprocessable request"): ...


class ServiceUnavailable(AppError, status=503, code="unavailable", title="Service unavailable"): ...


class BadRequest(AppError, status=400, code="bad_request", title="Bad request"): ...


class PayloadTooLarge(HTTPException):
    """Raised while a body is read, so a huge or endless body is never held in memory."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem(exc.status, exc.code, exc.title, exc.detail, exc.headers, **exc.extra)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    title = code.replace("_", " ").capitalize()
    return problem(exc.status_code, code, title, str(exc.detail), dict(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"] if part != "body")
    detail = f"{where}: {first['msg']}" if where else str(first["msg"])
    return problem(422, "validation_error", "Invalid request", detail, errors=errors)


# SQLSTATE classes of a server going away or refusing work: connection exception,
# insufficient resources (too many connections), operator intervention (shutdown).
_OUTAGE_SQLSTATES = ("08", "53", "57P")


def is_outage(exc: BaseException) -> bool:
    """PostgreSQL unreachable, or no pooled connection in time: worth a retry, not a bug.

    Covers SQLAlchemy's errors and, for the intake's own connections, asyncpg's."""
    if isinstance(exc, PoolTimeout | OSError | OperationalError | InterfaceError | TimeoutError):
        return True
    if isinstance(exc, asyncpg.InterfaceError):  # "connection is closed", and the like
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return _sqlstate(exc).startswith(_OUTAGE_SQLSTATES)
    if not isinstance(exc, DBAPIError):
        return False
    # The asyncpg dialect wraps "the database system is shutting down" (57P03) and the
    # like as a plain DBAPIError: its .orig carries the SQLSTATE.
    return exc.connection_invalidated or _sqlstate(exc.orig).startswith(_OUTAGE_SQLSTATES)


def database_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the database is unavailable or overloaded; retry shortly",
        code="database_unavailable",
        headers={"Retry-After": "1"},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if is_refused_value(exc) and not is_outage(exc):
        return await _refused_value(exc)
    if not is_outage(exc):
        return await _unexpected(request, exc)
    # The pool could not hand out a connection in time, or PostgreSQL is unreachable:
    # tell the caller to come back rather than queueing without bound.
    log.warning("database_unavailable", error=type(exc).__name__)
    return await _app_error(request, database_unavailable())


def is_refused_value(exc: BaseException) -> bool:
    """PostgreSQL refused a value: SQLSTATE class 22 (a NUL character, a number out of
    range) or 54 (a value past one of its limits, say a jsonb too large).

    The asyncpg dialect raises these as a plain DBAPIError, not DataError, hence the code;
    the intake's own connections raise asyncpg's errors unwrapped."""
    if isinstance(exc, DataError):
        return True
    raised = exc.orig if isinstance(exc, DBAPIError) else exc
    return _sqlstate(raised).startswith(("22", "54"))


def _sqlstate(exc: BaseException | None) -> str:
    # asyncpg's errors and SQLAlchemy's adapted ones (a DBAPIError's .orig) both carry it.
    sqlstate = getattr(exc, "sqlstate", None)
    return sqlstate if isinstance(sqlstate, str) else ""


async def _refused_value(exc: Exception) -> JSONResponse:
    # The input checks should have caught it first: this is the last line of defence. The
    # message would quote SQL and values, so neither the answer nor the log carries it.
    sqlstate = _sqlstate(getattr(exc, "orig", exc)) or None
    log.warning("database_refused_value", error=type(exc).__name__, sqlstate=sqlstate)
    return problem(
        400, "invalid_input", "Bad request", "a value in the request cannot be stored or searched"
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", exc_info=exc)
    return problem(500, "internal_error", "Internal error", "an unexpected error occurred")


# The exception handlers of one application, each for an exception type and its subclasses.
Handlers = dict[type[Exception], Callable[[Request, Exception], Awaitable[JSONResponse]]]
# What a database that fails or refuses a value raises (OSError: it cannot be reached).
DATABASE_ERRORS: tuple[type[Exception], ...] = (PoolTimeout, DBAPIError, OSError)

_HANDLERS: Handlers = {
    AppError: _app_error,
    HTTPException: _http_error,
    RequestValidationError: _validation_error,
    **dict.fromkeys(DATABASE_ERRORS, _database_error),
    Exception: _unexpected,
}


def install_error_handlers(app: FastAPI, handlers: Handlers = _HANDLERS) -> None:
    """Answer errors with `handlers`: by default the /v1 problem+json ones (app/fish has its
    own, in AceData's shape)."""
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


async def render_error(request: Request, exc: Exception) -> JSONResponse:
    """The answer the installed handlers give, for code that runs outside FastAPI's stack."""
    for kind in type(exc).__mro__:
        if kind in _HANDLERS:
            return await _HANDLERS[kind](request, exc)
    return await _unexpected(request, exc)
