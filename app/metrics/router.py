"""GET /metrics: Prometheus text, open to scrapers (no API key); counts only, no task contents."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import SessionDep
from app.metrics import service
from app.metrics.exposition import CONTENT_TYPE

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, session: SessionDep) -> Response:
    # A database error propagates: the error handlers answer 503 problem+json.
    counts = await service.counts(session)
    state = request.app.state
    process = service.Process(
        intake_waiting=state.intake.waiting,
        long_polls=len(state.waiters),
        pool_checked_out=state.engine.pool.checkedout(),
        pool_size=state.settings.db_pool_size,
    )
    return Response(service.render(counts, process), media_type=CONTENT_TYPE)
