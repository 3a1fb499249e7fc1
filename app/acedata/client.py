"""A typed wrapper over the lifespan's httpx client: each answer is a body or an UpstreamError."""

import logging
from typing import Any

import httpx
from pydantic import SecretStr

from app.acedata.errors import UpstreamError
from app.acedata.schemas import ErrorInfo, read_error
from app.errors import ServiceUnavailable

log = logging.getLogger("fishhook.acedata")

VOICES = "/fish/voices"
TTS = "/fish/tts"
TASKS = "/fish/tasks"
BATCH_LIMIT = 50


class AceDataClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: SecretStr | None) -> None:
        self._http = http
        self._base_url = base_url
        self._token = token

    @property
    def configured(self) -> bool:
        return self._token is not None

    async def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST once; the JSON object AceData answered, or UpstreamError."""
        if self._token is None:
            raise ServiceUnavailable(
                "FISHHOOK_ACEDATA_TOKEN is not set, so fishhook cannot submit to AceData",
                code="acedata_not_configured",
            )
        sent = {
            "authorization": f"Bearer {self._token.get_secret_value()}",
            "content-type": "application/json",
            "accept": "application/json",
            **(headers or {}),
        }
        try:
            answer = await self._http.post(self._base_url + path, json=body, headers=sent)
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                _info("upstream_timeout", f"AceData did not answer in time ({type(exc).__name__})")
            ) from None
        except httpx.HTTPError as exc:
            raise UpstreamError(
                _info(
                    "upstream_unavailable", f"AceData could not be reached ({type(exc).__name__})"
                )
            ) from None
        return _read(path, answer)

    async def retrieve_batch(self, ids: list[str]) -> list[dict[str, Any]]:
        """Task records for up to 50 AceData ids (unknown ids are simply absent)."""
        assert len(ids) <= BATCH_LIMIT
        answer = await self.post(TASKS, {"action": "retrieve_batch", "ids": ids})
        items = answer.get("items")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _info(code: str, message: str) -> ErrorInfo:
    return ErrorInfo(code, message, None)


def _retry_after(answer: httpx.Response) -> float | None:
    try:
        return float(answer.headers["retry-after"])
    except (KeyError, ValueError):
        return None


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
    error = UpstreamError(info, http_status=answer.status_code, retry_after=_retry_after(answer))
    level = logging.ERROR if error.is_account_problem else logging.WARNING
    log.log(
        level,
        "acedata_error path=%s status=%s code=%s trace_id=%s",
        path,
        answer.status_code,
        info.code,
        info.trace_id,
    )
    raise error
