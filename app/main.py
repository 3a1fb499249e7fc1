"""The application: create_app() wires settings, lifespan (engine, clients), routers, handlers."""

import asyncio
import base64
import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app import health
from app.acedata.client import AceDataClient
from app.background import Background
from app.body_limit import BodyLimitMiddleware
from app.callbacks.intake import Intake
from app.callbacks.router import callback_endpoint
from app.config import Settings, get_settings
from app.dashboard.router import router as dashboard_router
from app.db import create_engine, create_reader, create_sessionmaker
from app.deliveries import retention
from app.deliveries.router import router as deliveries_router
from app.deps import Keys
from app.embedded_db import database_url
from app.errors import install_error_handlers
from app.log import RequestLogMiddleware, configure_logging
from app.metrics.router import router as metrics_router
from app.reconcile.service import Reconciler
from app.relay.router import router as relay_router
from app.relay.signing import secret_key
from app.relay.worker import Relay, relay_client
from app.shutdown import CancelledRequestMiddleware, InFlight
from app.stored_secrets import get_or_create
from app.tasks.router import router as tasks_router
from app.tasks.waiting import Waiters

log = logging.getLogger("fishhook")

# How often a lost LISTEN connection (database restart) is noticed and reopened.
LISTEN_CHECK_INTERVAL = 1.0


def _new_relay_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    url = database_url(settings.database_url, settings.data_dir)
    engine = create_engine(url, settings)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        callback_secret = (
            settings.callback_secret.get_secret_value()
            if settings.callback_secret
            else await get_or_create(session, "callback_secret")
        )
        relay_secret = (
            settings.relay_secret.get_secret_value()
            if settings.relay_secret
            else await get_or_create(session, "relay_secret", _new_relay_secret())
        )
    http = httpx.AsyncClient(
        transport=app.state.acedata_transport,
        timeout=httpx.Timeout(
            settings.acedata_read_timeout, connect=settings.acedata_connect_timeout
        ),
        follow_redirects=False,
    )
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.reader = create_reader(engine)
    intake = Intake(
        url,
        writers=settings.intake_writers,
        max_batch=settings.intake_max_batch,
        max_waiting=settings.intake_max_waiting,
    )
    app.state.intake = intake
    app.state.keys = Keys(callback_secret=callback_secret.encode(), relay_secret=relay_secret)
    app.state.acedata = AceDataClient(
        http,
        settings.acedata_base_url,
        settings.acedata_token,
        retry_budget=settings.upstream_retry_budget,
        backoff_base=settings.upstream_backoff_base,
    )
    if not settings.api_keys:
        log.warning("api_keys_unset: /v1 is open to anyone who can reach this service")
    if settings.acedata_token is None:
        log.warning("acedata_token_unset: submits are refused until FISHHOOK_ACEDATA_TOKEN is set")
    waiters = Waiters(url)
    await waiters.listen()
    app.state.waiters = waiters
    relay_http = relay_client(settings)
    relay = Relay(sessionmaker, relay_http, secret_key(relay_secret), settings)
    app.state.relay = relay
    background = Background()
    app.state.background = background
    reconciler = Reconciler(sessionmaker, app.state.acedata, settings)
    app.state.reconciler = reconciler
    background.every("reconcile", settings.reconcile_interval, reconciler.sweep)
    background.every("listen", LISTEN_CHECK_INTERVAL, waiters.listen)
    if settings.relay_enabled:
        # The relay loop paces itself: run_once waits for a NOTIFY or the interval.
        waiters.subscribe(relay.wake)
        background.every("relay", 0, relay.run_once)
    background.every(
        "prune_deliveries",
        settings.delivery_prune_interval,
        lambda: retention.prune(sessionmaker, settings.delivery_retention_days),
    )
    # What startup built (routes, schemas, metadata) lives as long as the worker: take it out
    # of the collector's way. A full collection walked it all, pausing a worker 67-79 ms.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # collectable again once this app is gone (tests build many)
        # Callbacks still waiting learn their outcome (or 503), then every request cancelled
        # at the shutdown timeout gets to answer before the engine closes.
        await intake.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await app.state.in_flight.settle()
        await background.stop()
        await waiters.close()
        await relay_http.aclose()
        await http.aclose()
        await engine.dispose()


class Fishhook(FastAPI):
    """FastAPI, with the hot path taken before the framework's own middleware and routing.

    POST /callbacks is all AceData calls and the one endpoint that must be fast; it needs
    none of FastAPI's machinery (no validation, no dependencies), so it is served by
    `self.callbacks`: fishhook's middleware around a bare ASGI endpoint.
    """

    callbacks: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/callbacks":
            scope["app"] = self
            await self.callbacks(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    acedata_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    app = Fishhook(
        title="fishhook",
        summary="Callback receiver for AceData Cloud's Fish Audio API",
        lifespan=lifespan,
        # FastAPI's OpenTelemetry hooks cost a lookup per request; on only when asked for.
        telemetry={
            "tracing": settings.opentelemetry,
            "metrics": settings.opentelemetry,
            "logs": settings.opentelemetry,
        },
    )
    app.state.settings = settings
    app.state.acedata_transport = acedata_transport
    install_error_handlers(app)
    app.include_router(tasks_router)
    app.include_router(relay_router)
    app.include_router(deliveries_router)
    app.include_router(health.router)
    app.include_router(metrics_router)
    app.include_router(dashboard_router)
    app.state.in_flight = InFlight()
    app.add_middleware(CancelledRequestMiddleware, in_flight=app.state.in_flight)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)
    # The same three layers around the callback endpoint, outside FastAPI's own stack.
    app.callbacks = RequestLogMiddleware(
        BodyLimitMiddleware(
            CancelledRequestMiddleware(callback_endpoint, in_flight=app.state.in_flight),
            limit=settings.max_body_bytes,
        )
    )
    return app


def serve_app() -> FastAPI:
    """The factory uvicorn's worker processes call (see `fishhook serve`)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
