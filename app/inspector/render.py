"""HTML answers: Jinja2 templates with autoescape, and the headers every page is sent with."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.inspector import assets, views
from app.inspector.auth import COOKIE

# Scripts and styles only from fishhook itself; nothing inline, nothing from elsewhere. Audio
# plays from the task's own URL (https), loaded only when the person presses play.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' https:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(when=_when, iso=_iso, size=views.size, unquote=unquote_plus)
env.globals.update(asset=assets.url)


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    new_cookie: str | None = None,
    secure: bool = False,
    lifetime: int = 0,
) -> HTMLResponse:
    html = env.get_template(template).render(request=request, **context)
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    if new_cookie is not None:
        set_cookie(response, new_cookie, secure=secure, lifetime=lifetime)
    return response


def set_cookie(response: Any, value: str, *, secure: bool, lifetime: int) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=lifetime,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
