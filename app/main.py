"""The application: create_app() wires settings, the runtime's lifespan, routers, handlers."""

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app import docs, health, openapi, runtime, tracing
from app.archive.router import router as archive_router
from app.callbacks import schemas as callback_schemas
from app.callbacks.router import callback_endpoint
from app.config import Settings, get_settings
from app.deliveries.router import router as deliveries_router
from app.errors import install_error_handlers
from app.fish.app import mount as mount_fish
from app.inspector.router import router as inspector_router
from app.log import configure_logging
from app.metrics.router import router as metrics_router
from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.header_limit import HeaderLimitMiddleware
from app.middleware.request_log import RequestLogMiddleware
from app.middleware.shutdown import CancelledRequestMiddleware, InFlight
from app.relay.router import router as relay_router
from app.tasks.router import is_plain_read, is_submit, read_task_endpoint, submit_endpoint
from app.tasks.router import router as tasks_router


def _lifespan(
    settings: Settings,
    in_flight: InFlight,
    acedata_transport: httpx.AsyncBaseTransport | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime.start(settings, in_flight, acedata_transport) as built:
            app.state.runtime = built
            # What startup built (routes, schemas, metadata) lives as long as the worker:
            # take it out of the collector's way. A full collection walked it all, pausing
            # a worker 67-79 ms.
            gc.collect()
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()  # collectable again once this app is gone (tests build many)

    return lifespan


class Fishhook(FastAPI):
    """FastAPI, with fishhook's middleware outside it and the hot paths taken before its
    routing.

    POST /callbacks is all AceData calls and the one endpoint that must be fast; it needs
    none of FastAPI's machinery (no validation, no dependencies), so it is a bare ASGI
    endpoint. So are the status read pollers repeat (GET /v1/tasks/{id}, no query string)
    and a submit FastAPI would accept as it stands (see tasks.router.submit_endpoint).
    Everything else goes through FastAPI's own stack. `layered`: fishhook's middleware
    around `_dispatch`, once for every request.
    """

    layered: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["app"] = self
            await self.layered(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/callbacks":
            await callback_endpoint(scope, receive, send)
        elif is_plain_read(scope):
            await read_task_endpoint(scope, receive, send)
        elif is_submit(scope):
            await submit_endpoint(scope, receive, send, self._framework)
        else:
            await self._framework(scope, receive, send)

    async def _framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    acedata_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    in_flight = InFlight()
    app = Fishhook(
        title="fishhook",
        summary="Callback receiver for AceData Cloud's Fish Audio API",
        lifespan=_lifespan(settings, in_flight, acedata_transport),
        docs_url=None,  # served by app.docs, with local assets
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks cost a lookup per request; on only when asked for.
        telemetry={
            "tracing": settings.opentelemetry,
            "metrics": settings.opentelemetry,
            "logs": settings.opentelemetry,
        },
    )
    install_error_handlers(app)
    app.include_router(tasks_router)
    app.include_router(archive_router)
    app.include_router(relay_router)
    app.include_router(deliveries_router)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(inspector_router)
    # The AceData-compatible API: a sub-application with AceData-shaped errors.
    mount_fish(app)
    app.layered = RequestLogMiddleware(
        HeaderLimitMiddleware(
            BodyLimitMiddleware(
                CancelledRequestMiddleware(app._dispatch, in_flight=in_flight),
                limit=settings.max_body_bytes,
                timeout=settings.client_timeout,
            ),
            limit=settings.max_header_bytes,
        )
    )
    docs.install(app)
    openapi.document(
        app,
        api_keys_set=bool(settings.api_keys),
        # Any request can be too slow (408) or carry too large a header block (431).
        everywhere=(408, 431),
        extra_paths={"/callbacks": callback_schemas.PATH_ITEM},
        extra_schemas=[callback_schemas.CallbackReceipt],
    )
    return app


def serve_app() -> FastAPI:
    """The factory uvicorn's worker processes call (see `fishhook serve`)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    tracing.configure(settings.opentelemetry)
    return create_app(settings)
