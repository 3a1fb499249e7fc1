"""GET /metrics: Prometheus text, open to scrapers (no API key); counts only, no task contents."""

from fastapi import APIRouter
from fastapi.responses import Response

from app.deps import RuntimeDep, SessionDep
from app.metrics import service
from app.metrics.exposition import CONTENT_TYPE
from app.openapi import problems

router = APIRouter(tags=["metrics"])


_TEXT = {"text/plain": {"schema": {"type": "string"}}}


@router.get(
    "/metrics",
    response_class=Response,
    responses={**problems(503), 200: {"description": "Prometheus text 0.0.4", "content": _TEXT}},
)
async def metrics(runtime: RuntimeDep, session: SessionDep) -> Response:
    # A database error propagates: the error handlers answer 503 problem+json.
    counts = await service.counts(session)
    process = service.Process(
        intake_waiting=runtime.intake.waiting,
        long_polls=len(runtime.waiters),
        pool_checked_out=runtime.engine.pool.checkedout(),  # type: ignore[attr-defined]
        pool_size=runtime.settings.db_pool_size,
    )
    return Response(service.render(counts, process), media_type=CONTENT_TYPE)
