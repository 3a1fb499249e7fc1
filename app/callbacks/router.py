"""POST /callbacks: where AceData posts results. Answers 2xx only once the delivery is committed."""

from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from app import tracing
from app.callbacks import credentials, service
from app.callbacks.service import Inbound, Receipt
from app.errors import PayloadTooLarge, problem, render_error
from app.metrics import families
from app.middleware.request_log import BareRoute

if TYPE_CHECKING:  # the runtime is built from the features, callbacks among them
    from app.runtime import Runtime
from app.callbacks.redaction import query_pairs, redact_headers, redact_query, secret_values

_REFUSALS: dict[str, tuple[int, str, str]] = {
    "unauthenticated": (401, "invalid_credential", "Callback credential missing or wrong"),
    "invalid": (400, "invalid_body", "Callback body not understood"),
    "unmatched": (404, "unknown_task", "No such task"),
}


async def receive_callback(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    too_large: PayloadTooLarge | None = None
    body: bytes | None
    try:
        body = await request.body()
    except PayloadTooLarge as exc:
        body, too_large = None, exc
    # The query string straight from the scope: request.url would build a whole URL.
    pairs = query_pairs(request.scope["query_string"].decode("latin-1"))
    task_ref, token = credentials.read(pairs)
    inbound = Inbound(
        source="callback",
        method=request.method,
        query=redact_query(pairs),
        headers=redact_headers(request.scope["headers"], secret_values(pairs)),
        body=body,
        body_size=len(body) if body is not None else _declared_size(request),
        remote_addr=request.client.host if request.client else None,
    )
    refused = credentials.refusal(runtime.keys.callback_secret, task_ref, token)
    wrong_type = _not_json(request.headers.get("content-type"))
    row = service.to_row(
        inbound,
        task_ref=task_ref,
        authenticated=refused is None,
        refusal=wrong_type,
        unauthenticated=refused,
    )
    with tracing.span("fishhook.callback", **{"fishhook.task": task_ref}) as span:
        span.set_attribute("fishhook.task_id", row.task_id or "")
        with tracing.span("fishhook.callback.commit"):
            applied = await runtime.intake.apply(row)
        span.set_attribute("fishhook.outcome", applied.outcome)
    receipt = service.receipt(row, applied)
    families.callbacks.labels(receipt.outcome).inc()
    if too_large is not None and receipt.outcome == "invalid":
        raise too_large
    if wrong_type is not None and receipt.outcome == "invalid":
        return problem(
            415,
            "unsupported_media_type",
            "Callback body is not JSON",
            wrong_type,
            delivery_id=receipt.delivery_id,
        )
    return answer(receipt)


def _not_json(content_type: str | None) -> str | None:
    """Why the declared content type is not JSON, or None. A missing one is tolerated:
    AceData sends application/json, and refusing a real result over a header would lose it."""
    if content_type is None:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    json_suffix = media.startswith("application/") and media.endswith("+json")
    if media == "application/json" or json_suffix:
        return None
    # repr() escapes control characters, which PostgreSQL's text could not hold.
    return f"content type {media[:100]!r} is not application/json"


def answer(receipt: Receipt) -> JSONResponse:
    if receipt.outcome in _REFUSALS:
        status, code, title = _REFUSALS[receipt.outcome]
        detail = receipt.detail or title
        return problem(status, code, title, detail, delivery_id=receipt.delivery_id)
    content: dict[str, Any] = {"delivery_id": receipt.delivery_id, "outcome": receipt.outcome}
    return JSONResponse(content)


def _declared_size(request: Request) -> int:
    try:
        return int(request.headers.get("content-length", "-1"))
    except ValueError:
        return -1


_ROUTE = BareRoute("/callbacks")


async def callback_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """POST /callbacks as a bare ASGI endpoint: the hot path skips FastAPI's routing, its
    dependency solving and its exception layers, and answers errors through the same
    handlers (see main.Fishhook)."""
    request = Request(scope, receive)
    scope["route"] = _ROUTE
    try:
        if request.method != "POST":
            raise HTTPException(405, "use POST", headers={"Allow": "POST"})
        response = await receive_callback(request)
    except Exception as exc:
        response = await render_error(request, exc)
        if response.status_code >= 500:
            families.callbacks.labels("error").inc()
    await response(scope, receive, send)
