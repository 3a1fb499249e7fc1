"""A typed wrapper over the lifespan's httpx client: each answer is a body or an UpstreamError.

Retryable failures (429, 5xx, unreachable, timed out) are retried within the budget. A
submit whose request may have reached AceData (the answer was lost) is never re-sent: it
could create and bill a second job; it raises OutcomeUnknown instead.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from app import tracing
from app.acedata.errors import OutcomeUnknown, UpstreamError
from app.acedata.retry import Backoff, is_retryable
from app.acedata.schemas import ErrorInfo, read_error
from app.backoff import retry_after
from app.errors import ServiceUnavailable
from app.log import get_logger
from app.metrics import families

log = get_logger("fishhook.acedata")

VOICES = "/fish/voices"
TTS = "/fish/tts"
TASKS = "/fish/tasks"
BATCH_LIMIT = 50
# Paths counted under their own name in fishhook_acedata_requests_total; others as "other".
_COUNTED = frozenset({VOICES, TTS, TASKS, "/fish/audios", "/fish/model"})
# AceData's documented codes and fishhook's own: a label never takes an unbounded value.
_CODES = frozenset(
    {
        "bad_request", "no_token", "token_mismatched", "api_not_implemented", "disabled",
        "invalid_token", "token_expired", "used_up", "forbidden", "no_api",
        "request_too_large", "too_many_requests", "api_error", "busy", "timeout",
        "upstream_timeout", "upstream_unavailable", "upstream_invalid_response",
        "acedata_not_configured",
    }
)  # fmt: skip


# Raised before a single byte of the request left: re-sending cannot create a second job.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class _Call:
    """One request to AceData, as each attempt within the retry budget sends it."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    params: Sequence[tuple[str, str]] | None = None
    # Safe to send again even when the answer was lost (reads and queries): no second job.
    idempotent: bool = False


class AceDataClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        token: SecretStr | None,
        *,
        retry_budget: float = 0.0,
        backoff_base: float = 0.5,
    ) -> None:
        self._http = http
        self._base_url = base_url
        self._token = token
        self._retry_budget = retry_budget
        self._backoff_base = backoff_base

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def configured(self) -> bool:
        return self._token is not None

    def require_token(self) -> SecretStr:
        """The API token; without one, the 503 that says fishhook cannot submit."""
        if self._token is None:
            raise ServiceUnavailable(
                "FISHHOOK_ACEDATA_TOKEN is not set, so fishhook cannot submit to AceData",
                code="acedata_not_configured",
            )
        return self._token

    async def post(
        self,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        *,
        idempotent: bool = False,
    ) -> dict[str, Any]:
        """POST, retrying within the budget; the JSON object AceData answered, or UpstreamError.

        `idempotent`: the call may be re-sent even when its answer was lost (queries)."""
        return await self._retrying(_Call("POST", path, body, headers, idempotent=idempotent))

    async def get(
        self, path: str, params: Sequence[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """GET (a read: always safe to re-send), retrying within the budget like `post`."""
        return await self._retrying(_Call("GET", path, params=params, idempotent=True))

    async def _retrying(self, call: _Call) -> dict[str, Any]:
        backoff = Backoff(self._retry_budget, self._backoff_base)
        while True:
            try:
                return await self._once(call)
            except OutcomeUnknown:
                raise
            except UpstreamError as error:
                delay = backoff.next_delay(error.retry_after) if is_retryable(error) else None
                if delay is None:
                    raise
                log.warning(
                    "acedata_retry",
                    path=call.path,
                    code=error.info.code,
                    attempt=backoff.attempt,
                    delay=round(delay, 2),
                )
                await asyncio.sleep(delay)

    async def _once(self, call: _Call) -> dict[str, Any]:
        endpoint = call.path if call.path in _COUNTED else "other"
        with tracing.span("acedata.request", **{"acedata.endpoint": endpoint}) as span:
            try:
                answer = await self._send_once(call)
            except UpstreamError as error:
                status = str(error.http_status) if error.http_status else "none"
                code = error.info.code if error.info.code in _CODES else "other"
                families.acedata_requests.labels(endpoint, status, code).inc()
                span.set_attribute("acedata.code", error.info.code)
                raise
            except OutcomeUnknown:
                families.acedata_requests.labels(endpoint, "none", "outcome_unknown").inc()
                raise
            families.acedata_requests.labels(endpoint, "2xx", "").inc()
            task_id = answer.get("task_id")
            if isinstance(task_id, str):
                span.set_attribute("fishhook.task_id", task_id)
            return answer

    async def _send_once(self, call: _Call) -> dict[str, Any]:
        token = self.require_token()
        sent = {
            "authorization": f"Bearer {token.get_secret_value()}",
            "content-type": "application/json",
            "accept": "application/json",
            **(call.headers or {}),
        }
        try:
            answer = await self._http.request(
                call.method,
                self._base_url + call.path,
                json=call.body,
                params=tuple(call.params) if call.params else None,
                headers=sent,
            )
        except _NOT_SENT as exc:
            raise _unreachable(exc, "could not be reached") from None
        except httpx.HTTPError as exc:
            # The request may have reached AceData: its answer is what got lost.
            if not call.idempotent:
                log.error("acedata_outcome_unknown", path=call.path, error=type(exc).__name__)
                raise OutcomeUnknown(
                    f"the connection to AceData failed after the request was sent "
                    f"({type(exc).__name__}); AceData may or may not have accepted the job"
                ) from None
            raise _unreachable(exc, "did not answer") from None
        return _read(call.path, answer)

    async def retrieve_batch(self, ids: list[str]) -> list[dict[str, Any]]:
        """Task records for up to 50 AceData ids (unknown ids are simply absent)."""
        assert len(ids) <= BATCH_LIMIT
        answer = await self.post(TASKS, {"action": "retrieve_batch", "ids": ids}, idempotent=True)
        items = answer.get("items")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _info(code: str, message: str) -> ErrorInfo:
    return ErrorInfo(code, message, None)


def _unreachable(exc: httpx.HTTPError, what: str) -> UpstreamError:
    """AceData `what` ("did not answer", say): a timeout, or unavailable."""
    timeout = isinstance(exc, httpx.TimeoutException)
    code = "upstream_timeout" if timeout else "upstream_unavailable"
    return UpstreamError(_info(code, f"AceData {what} ({type(exc).__name__})"))


def _read(path: str, answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.is_success and isinstance(body, dict) and read_error(body) is None:
        return body
    info = read_error(body, answer.status_code)
    if info is None:
        info = _info(
            "upstream_invalid_response",
            f"AceData answered {path} with HTTP {answer.status_code}: a body fishhook cannot read",
        )
    error = UpstreamError(
        info,
        http_status=answer.status_code,
        retry_after=retry_after(answer.headers.get("retry-after")),
    )
    level = logging.ERROR if error.is_account_problem else logging.WARNING
    log.log(
        level,
        "acedata_error",
        path=path,
        status=answer.status_code,
        code=info.code,
        trace_id=info.trace_id,
    )
    raise error
