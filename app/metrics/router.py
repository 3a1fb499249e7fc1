"""GET /metrics: Prometheus text, open to scrapers (no API key); counts only, no task contents.

Served from memory and the workers' metric files: it answers while the database is down
or the pool is drained (the database gauges are refreshed in the background)."""

from fastapi import APIRouter
from fastapi.responses import Response

from app.deps import RuntimeDep
from app.metrics import exposition, service

router = APIRouter(tags=["metrics"])


_TEXT = {"text/plain": {"schema": {"type": "string"}}}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text 0.0.4", "content": _TEXT}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    service.observe(runtime)  # this worker's figures as of now; the others', as of <1 s ago
    return Response(exposition.render(), media_type=exposition.CONTENT_TYPE)
