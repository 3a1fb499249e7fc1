"""Liveness and readiness: /healthz answers while the process runs; /readyz checks the database."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.deps import RuntimeDep
from app.errors import problem
from app.migrate import head_revision
from app.openapi import problems

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


_READY = {
    "type": "object",
    "required": ["status", "database", "migration"],
    "properties": {
        "status": {"const": "ready"},
        "database": {"const": "ok"},
        "migration": {"type": "string"},
    },
}


@router.get(
    "/readyz",
    response_model=None,
    responses={**problems(503), 200: {"content": {"application/json": {"schema": _READY}}}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    try:
        async with runtime.engine.connect() as conn:
            current = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:  # any failure here means: not ready
        return problem(
            503,
            "database_unavailable",
            "Not ready",
            f"database: {type(exc).__name__}",
            {"Retry-After": "1"},
        )
    head = head_revision()
    if current != head:
        return problem(
            503, "migrations_pending", "Not ready", f"database at {current}, code expects {head}"
        )
    return JSONResponse({"status": "ready", "database": "ok", "migration": current})
