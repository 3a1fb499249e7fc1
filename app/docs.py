"""/docs (Swagger UI) and /redoc with their assets served by fishhook, so they work offline.

The JavaScript, CSS and favicon come from the `fastapi-offline` package (MIT; Swagger UI is
Apache-2.0, ReDoc MIT), served under a path that names the package version: a new version is
a new URL, so the assets can be cached for a year.
"""

from collections.abc import Awaitable, Callable
from functools import partial
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
ASSETS = f"/docs/assets/{version('fastapi-offline')}"
IMMUTABLE = "public, max-age=31536000, immutable"
# The pages themselves name the current assets, so browsers revalidate them.
PAGE_CACHE = "no-cache"


class CachedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def router(app: FastAPI) -> APIRouter:
    docs = APIRouter(include_in_schema=False)
    title = f"{app.title} API"
    openapi_url = app.openapi_url or "/openapi.json"
    # Each page: FastAPI's function that writes it, pointed at fishhook's copy of its assets.
    pages: dict[str, Callable[..., HTMLResponse]] = {
        "/docs": partial(
            get_swagger_ui_html,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            # Swagger UI would otherwise send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        ),
        "/redoc": partial(
            get_redoc_html,
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        ),
    }
    for path, write in pages.items():
        docs.add_api_route(path, _page(write, openapi_url, title), methods=["GET"])
    return docs


def _page(
    write: Callable[..., HTMLResponse], openapi_url: str, title: str
) -> Callable[[], Awaitable[HTMLResponse]]:
    """The route that answers with the page `write` writes for the document at `openapi_url`."""

    async def page() -> HTMLResponse:
        answer = write(openapi_url=openapi_url, title=title)
        answer.headers["Cache-Control"] = PAGE_CACHE
        return answer

    return page


def install(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets (create the app with docs_url=redoc_url=None)."""
    app.include_router(router(app))
    app.mount(ASSETS, CachedStaticFiles(directory=ASSETS_DIR), name="docs-assets")
