"""How AceData's refusals and outages become fishhook's answers (the README's error table).

UpstreamError (AppError)
 +-- the client's own mistake       4xx with AceData's code (bad_request, forbidden, ...)
 +-- fishhook's account or config   502 (invalid_token, used_up, ...), logged loudly
 +-- rate limited                   503 too_many_requests, with Retry-After
 +-- outage, unreadable answer      502 api_error, busy, upstream_unavailable, ...
 +-- timeout                        504 timeout, upstream_timeout
      +-- OutcomeUnknown           the submit's answer was lost: the task stays pending
"""

from typing import Any

from app.acedata.schemas import ErrorInfo
from app.errors import AppError

CLIENT_CODES = {"bad_request": 400, "forbidden": 403, "request_too_large": 413}
ACCOUNT_CODES = frozenset(
    {
        "invalid_token",
        "token_expired",
        "token_mismatched",
        "no_token",
        "used_up",
        "disabled",
        "no_api",
        "api_not_implemented",
    }
)
TIMEOUT_CODES = frozenset({"timeout", "upstream_timeout", "upstream_outcome_unknown"})


class UpstreamError(AppError):
    title = "AceData refused or failed the request"

    def __init__(
        self,
        info: ErrorInfo,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        status = answer_status(info.code, http_status)
        headers = {"Retry-After": str(max(1, round(retry_after or 1)))} if status == 503 else None
        extra: dict[str, Any] = {"trace_id": info.trace_id} if info.trace_id else {}
        super().__init__(info.message, code=info.code, status=status, headers=headers, **extra)
        self.info = info
        self.http_status = http_status
        self.retry_after = retry_after

    @property
    def is_account_problem(self) -> bool:
        return self.info.code in ACCOUNT_CODES

    def task_error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.info.code, "message": self.info.message}
        if self.info.trace_id:
            error["trace_id"] = self.info.trace_id
        return error


def answer_status(code: str, http_status: int | None) -> int:
    if code in CLIENT_CODES:
        return CLIENT_CODES[code]
    if code == "too_many_requests":
        return 503
    if code in TIMEOUT_CODES:
        return 504
    if code in ACCOUNT_CODES:
        return 502
    # An unknown code on a 4xx is most likely about the request itself.
    if http_status is not None and 400 <= http_status < 500 and http_status not in (401, 403, 429):
        return 400
    return 502


class OutcomeUnknown(UpstreamError):
    """The submit reached AceData (maybe) but its answer was lost; it must not be re-sent."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorInfo("upstream_outcome_unknown", message, None))
