"""Signing in and out of the inspector, and the guard every page stands behind: without a
valid session cookie (when FISHHOOK_API_KEYS is set) a page answers 303 to /ui/login."""

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from app.deps import RuntimeDep
from app.inspector import render
from app.inspector.auth import COOKIE, Session
from app.inspector.state import Inspector
from app.metrics.service import version

log = logging.getLogger("fishhook.inspector")

router = APIRouter(include_in_schema=False)

WRONG_KEY_DELAY = 0.5  # every wrong key costs this much, locked out or not


@dataclass(frozen=True, slots=True)
class Visitor:
    session: Session
    csrf: str
    open: bool  # no API keys: the UI is open to anyone who reaches it
    new_cookie: str | None  # set on this answer (an open UI's first visit)

    def context(self, section: str) -> dict[str, Any]:
        return {
            "ui": {"csrf": self.csrf, "open": self.open, "section": section, "version": version()}
        }


def _inspector(runtime: Any) -> Inspector:
    inspector: Inspector = runtime.inspector
    return inspector


async def get_visitor(request: Request, runtime: RuntimeDep) -> Visitor:
    sessions = _inspector(runtime).sessions
    session = sessions.read(request.cookies.get(COOKIE))
    new_cookie = None
    if session is None:
        if sessions.required:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            where = "/ui/login" + ("" if target == "/" else f"?next={quote(target, safe='')}")
            raise HTTPException(303, "sign in first", headers={"Location": where})
        session, new_cookie = sessions.new(None)
    return Visitor(session, sessions.csrf_token(session), not sessions.required, new_cookie)


VisitorDep = Annotated[Visitor, Depends(get_visitor)]


async def form(request: Request) -> dict[str, str]:
    """An urlencoded form; the body limit middleware bounds its size."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def check_csrf(runtime: Any, visitor: Visitor, fields: dict[str, str]) -> None:
    if not _inspector(runtime).sessions.csrf_ok(visitor.session, fields.get("csrf")):
        raise HTTPException(403, "the form's CSRF token is missing or stale; reload the page")


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never "//evil.example" or "https://...".
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(
    request: Request, error: str = "", status: int = 200, target: str | None = None
) -> Response:
    target = target if target is not None else request.query_params.get("next")
    context = {
        "ui": {"csrf": "", "open": False, "section": "login", "version": version()},
        "error": error,
        "next": _safe_next(target),
    }
    return render.page(request, "login.html", context, status=status)


@router.get("/ui/login")
async def login_form(request: Request, runtime: RuntimeDep) -> Response:
    sessions = _inspector(runtime).sessions
    if not sessions.required or sessions.read(request.cookies.get(COOKIE)):
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/ui/login")
async def login(request: Request, runtime: RuntimeDep) -> Response:
    inspector = _inspector(runtime)
    sessions, throttle = inspector.sessions, inspector.logins
    if not sessions.required:
        return RedirectResponse("/", status_code=303)
    address = request.client.host if request.client else "unknown"
    fields = await form(request)
    wait = throttle.wait(address)
    if wait > 0:
        await asyncio.sleep(WRONG_KEY_DELAY)
        message = f"Too many wrong keys from your address. Try again in {int(wait) + 1} s."
        return _login_page(request, message, 429, fields.get("next"))
    key = sessions.matching_key(fields.get("key", ""))
    if key is None:
        throttle.failed(address)
        log.warning("inspector_sign_in_refused remote=%s", address)
        await asyncio.sleep(WRONG_KEY_DELAY)
        # 200: the form again, with the message (a 401 page reads as a console error).
        message = "That is not one of this service's API keys."
        return _login_page(request, message, 200, fields.get("next"))
    throttle.succeeded(address)
    _, cookie = sessions.new(key)
    response = RedirectResponse(_safe_next(fields.get("next")), status_code=303)
    render.set_cookie(response, cookie, secure=sessions.secure, lifetime=sessions.lifetime)
    return response


@router.post("/ui/logout")
async def logout(request: Request, runtime: RuntimeDep, visitor: VisitorDep) -> Response:
    check_csrf(runtime, visitor, await form(request))
    response = RedirectResponse("/ui/login" if not visitor.open else "/", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
