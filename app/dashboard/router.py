"""GET /: the dashboard, behind the API key like /v1 when FISHHOOK_API_KEYS is set."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.dashboard import page, service
from app.deps import ApiKeyDep, SessionDep
from app.metrics.service import version
from app.openapi import problems

router = APIRouter(tags=["dashboard"], dependencies=[ApiKeyDep], responses=problems(503))


@router.get("/", response_class=HTMLResponse)
async def dashboard(session: SessionDep) -> HTMLResponse:
    view = await service.overview(session)
    return HTMLResponse(page.render(view, version()), headers=page.HEADERS)
