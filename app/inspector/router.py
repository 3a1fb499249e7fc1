"""The inspector's pages: overview, task and delivery lists and details, Replay and Resend,
the live event stream, and its static files. Thin: parse, call the service, render."""

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.archive import router as archive_router
from app.archive import service as archive_service
from app.deliveries import service as deliveries_service
from app.deps import ReaderDep, RelayDep, RuntimeDep, SessionDep
from app.errors import AppError
from app.inspector import assets, render, service, views
from app.inspector.auth import COOKIE
from app.inspector.login import Visitor, VisitorDep, check_csrf, form
from app.inspector.login import router as login_router
from app.relay import service as relay_service
from app.vocabulary import ArchiveStatus

router = APIRouter(include_in_schema=False)
router.include_router(login_router)

HEARTBEAT = 15  # seconds between SSE comments, so idle proxies keep the stream open


@dataclass(frozen=True, slots=True)
class _Page:
    """What a page renders with: the request, the runtime (the session cookie's settings)
    and the signed-in visitor."""

    request: Request
    runtime: Any
    visitor: Visitor

    def html(
        self, template: str, section: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        sessions = self.runtime.inspector.sessions
        return render.page(
            self.request,
            template,
            {**self.visitor.context(section), **context},
            status=status,
            new_cookie=self.visitor.new_cookie,
            secure=sessions.secure,
            lifetime=sessions.lifetime,
        )

    @property
    def flash(self) -> str:
        """The message the redirect to this page carried (Replay, Resend)."""
        return self.request.query_params.get("flash", "")

    async def check_form(self) -> None:
        """A form post: refused (403) unless it carries this visitor's CSRF token."""
        check_csrf(self.runtime, self.visitor, await form(self.request))

    def not_found(self, what: str, ref: str) -> Response:
        context = {"title": f"No such {what}", "message": f"There is no {what} {ref!r}."}
        return self.html("error.html", what, context, 404)


async def _page(request: Request, runtime: RuntimeDep, visitor: VisitorDep) -> _Page:
    return _Page(request, runtime, visitor)


PageDep = Annotated[_Page, Depends(_page)]


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A browser's datetime-local field has no zone: the page labels it UTC.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _filters(
    request: Request, statuses: tuple[str, ...], kinds: tuple[str, ...]
) -> service.Filters:
    p = request.query_params
    status, kind = p.get("status", ""), p.get("kind", "")
    return service.Filters(
        status=status if status in statuses else "",
        kind=kind if kind in kinds else "",
        q=p.get("q", "").strip().replace("\x00", "")[:200],
        since=_time(p.get("since")),
        until=_time(p.get("until")),
        cursor=p.get("cursor", ""),
    )


def _query(f: service.Filters, cursor: str | None) -> str:
    """The link to the next page: the same filters, the next cursor."""
    pairs = {
        "status": f.status,
        "kind": f.kind,
        "q": f.q,
        "cursor": cursor or "",
        "since": f.since.isoformat() if f.since else "",
        "until": f.until.isoformat() if f.until else "",
    }
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs.items() if v)


@router.get("/")
async def overview(page: PageDep, session: ReaderDep) -> Response:
    counts = await service.counts(session)
    newest = service.Filters()
    tasks = await service.tasks(session, newest)
    deliveries = await service.deliveries(session, newest)
    context = {
        "counts": counts,
        "tasks": tasks.rows[:12],
        "deliveries": deliveries.rows[:20],
        "live": True,
    }
    return page.html("overview.html", "overview", context)


@router.get("/ui")
async def ui_root() -> Response:
    return RedirectResponse("/", status_code=303)


async def _list_page(
    page: _Page,
    section: str,
    f: service.Filters,
    rows: Awaitable[service.Page],
    choices: dict[str, Any],
) -> Response:
    """The list page `section`.html: the `rows` found for `f`, a link to the next page, and
    what the filters offer (`choices`)."""
    try:
        found = await rows
    except AppError as error:  # a cursor this service never issued
        bad_link = {"title": "Bad link", "message": error.detail}
        return page.html("error.html", section, bad_link, 400)
    context = {
        "f": f,
        "page": found,
        "next": _query(f, found.next_cursor),
        "live": not f.cursor,
        **choices,
    }
    return page.html(f"{section}.html", section, context)


@router.get("/ui/tasks")
async def task_list(page: PageDep, session: ReaderDep) -> Response:
    f = _filters(page.request, service.STATUSES, service.KINDS)
    choices = {"statuses": service.STATUSES, "kinds": service.KINDS}
    return await _list_page(page, "tasks", f, service.tasks(session, f), choices)


@router.get("/ui/deliveries")
async def delivery_list(page: PageDep, session: ReaderDep) -> Response:
    f = _filters(page.request, service.OUTCOMES, service.SOURCES)
    choices = {
        "outcomes": service.OUTCOMES,
        "sources": service.SOURCES,
        "short_search": 0 < len(f.q) < service.MIN_SEARCH,
    }
    return await _list_page(page, "deliveries", f, service.deliveries(session, f), choices)


@router.get("/ui/deliveries/{delivery_id}")
async def delivery_page(delivery_id: str, page: PageDep, session: ReaderDep) -> Response:
    delivery = await service.delivery(session, delivery_id)
    if delivery is None:
        return page.not_found("delivery", delivery_id)
    context = {
        "d": delivery,
        "body": views.body(delivery),
        "reason": views.reason(delivery.outcome, delivery.detail, delivery.body is not None),
        "curl": views.curl(delivery, page.runtime.settings.public_url),
        "replayable": delivery.outcome != "unauthenticated",
        "flash": page.flash,
        "live": False,
    }
    return page.html("delivery.html", "deliveries", context)


@router.post("/ui/deliveries/{delivery_id}/replay")
async def replay(delivery_id: str, page: PageDep, session: SessionDep) -> Response:
    await page.check_form()
    try:
        receipt = await deliveries_service.replay(session, delivery_id)
    except AppError as error:
        where = f"/ui/deliveries/{quote(delivery_id, safe='')}?flash={quote(error.detail)}"
        return RedirectResponse(where, status_code=303)
    message = f"Replayed {delivery_id}: {receipt.outcome}"
    where = f"/ui/deliveries/{receipt.delivery_id}?flash={quote(message)}"
    return RedirectResponse(where, status_code=303)


@router.get("/ui/tasks/{ref}")
async def task_page(ref: str, page: PageDep, session: ReaderDep) -> Response:
    task = await service.task(session, ref)
    if task is None:
        return page.not_found("task", ref)
    delivered = await service.task_deliveries(session, task.id)
    relays = await relay_service.messages(session, task.id)
    context = {
        "t": task,
        "timeline": views.timeline(task, delivered, relays),
        "deliveries": delivered,
        "relays": relays,
        "input": views.highlight_json(views.task_input(task)),
        "output": views.highlight_json(task.output) if task.output is not None else None,
        "result": views.highlight_json(task.result) if task.result is not None else None,
        "error": task.error,
        "audio": views.audio_source(task, await _archived(session, task.id)),
        "origin": views.origin,
        "flash": page.flash,
        "live": True,
    }
    return page.html("task.html", "tasks", context)


async def _archived(session: AsyncSession, task_id: str) -> bool:
    found = await archive_service.file_of(session, task_id, None)
    return found is not None and found.status == ArchiveStatus.STORED


@router.get("/ui/tasks/{ref}/audio")
async def task_audio(
    ref: str, request: Request, runtime: RuntimeDep, visitor: VisitorDep, session: ReaderDep
) -> Response:
    """The archived audio for the page's player, behind the inspector's sign-in."""
    conditions = (request.headers.get(h) for h in ("range", "if-range", "if-none-match"))
    return await archive_router.send_file(session, runtime, ref, None, *conditions)


@router.post("/ui/tasks/{ref}/relay")
async def resend(ref: str, page: PageDep, session: SessionDep, relay: RelayDep) -> Response:
    await page.check_form()
    task = await service.task(session, ref)
    if task is None:
        return page.not_found("task", ref)
    message = await relay_service.latest(session, task.id)
    if message is None:
        flash = "Nothing to relay: the task has no callback_url or has not finished."
    else:
        attempt = await relay.resend(message.id)
        if attempt is None:
            flash = "An attempt is already in flight; try again in a moment."
        else:
            answer = attempt.status_code if attempt.status_code is not None else attempt.error
            flash = f"Sent again (attempt {attempt.number}): {answer} in {attempt.latency_ms} ms"
    where = f"/ui/tasks/{quote(task.id, safe='')}?flash={quote(flash)}"
    return RedirectResponse(where, status_code=303)


@router.get("/ui/events")
async def events(request: Request, runtime: RuntimeDep) -> Response:
    """What changed, as Server-Sent Events; the browser re-reads its page on each."""
    sessions = runtime.inspector.sessions
    if sessions.required and sessions.read(request.cookies.get(COOKIE)) is None:
        return Response("sign in first", status_code=401, media_type="text/plain")

    async def changes() -> Any:
        async for kinds in runtime.inspector.live.changes():
            yield ServerSentEvent(data=kinds, event="change")

    return EventSourceResponse(
        changes(), ping=HEARTBEAT, headers={"Cache-Control": "no-store"}, send_timeout=10
    )


@router.get("/ui/static/{name}")
async def static(name: str, request: Request) -> Response:
    return assets.serve(name, request)
