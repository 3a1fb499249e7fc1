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
from app.tasks.router import is_plain_read, read_task_endpoint
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
    """FastAPI, with the hot path taken before the framework's own middleware and routing.

    POST /callbacks is all AceData calls and the one endpoint that must be fast; it needs
    none of FastAPI's machinery (no validation, no dependencies), so it is served by
    `self.callbacks`: fishhook's middleware around a bare ASGI endpoint. The same for the
    status read pollers repeat (GET /v1/tasks/{id}, no query string): `self.task_reads`.
    """

    callbacks: ASGIApp
    task_reads: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == "/callbacks":
                scope["app"] = self
                await self.callbacks(scope, receive, send)
                return
            if is_plain_read(scope):
                scope["app"] = self
                await self.task_reads(scope, receive, send)
                return
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
    app.add_middleware(CancelledRequestMiddleware, in_flight=in_flight)
    app.add_middleware(
        BodyLimitMiddleware, limit=settings.max_body_bytes, timeout=settings.client_timeout
    )
    app.add_middleware(HeaderLimitMiddleware, limit=settings.max_header_bytes)
    app.add_middleware(RequestLogMiddleware)

    # The same layers around the bare endpoints, outside FastAPI's own stack.
    def layered(endpoint: ASGIApp) -> ASGIApp:
        return RequestLogMiddleware(
            HeaderLimitMiddleware(
                BodyLimitMiddleware(
                    CancelledRequestMiddleware(endpoint, in_flight=in_flight),
                    limit=settings.max_body_bytes,
                    timeout=settings.client_timeout,
                ),
                limit=settings.max_header_bytes,
            )
        )

    app.callbacks = layered(callback_endpoint)
    app.task_reads = layered(read_task_endpoint)
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
