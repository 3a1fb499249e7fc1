"""The runtime: everything a service process builds at startup, typed, in one place.

`start(settings)` builds it and tears it down in reverse; the lifespan stores it on
`app.state.runtime`, and routers reach its parts through the aliases in `app.deps`.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import keys, retention
from app.acedata.client import AceDataClient
from app.archive.storage import open_storage
from app.archive.worker import LEASE_MARGIN, Archiver, archive_client
from app.background import Background
from app.callbacks.intake import Intake
from app.config import Settings
from app.db import create_engine, create_reader, create_sessionmaker
from app.embedded_db import database_url
from app.inspector import state as inspector
from app.keys import Keys
from app.log import get_logger
from app.metrics import service as worker_metrics
from app.metrics import snapshot
from app.middleware.shutdown import InFlight
from app.reconcile.pacer import SharedPacer
from app.reconcile.service import Reconciler
from app.relay.signing import secret_key
from app.relay.worker import Relay, relay_client
from app.statements import Statements
from app.tasks.reads import Reads
from app.tasks.waiting import Waiters

log = get_logger("fishhook")

# How often a lost LISTEN connection (database restart) is noticed and reopened.
LISTEN_CHECK_INTERVAL = 1.0
# How often each worker writes its own gauges (pool, intake) for the others' scrapes.
WORKER_METRICS_INTERVAL = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    # Sessions that write (services commit themselves), and sessions that only read.
    sessionmaker: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]
    # Single statements on their own asyncpg pool: status reads, a submit's writes.
    statements: Statements
    reads: Reads
    keys: Keys
    acedata: AceDataClient
    intake: Intake
    waiters: Waiters
    relay: Relay
    reconciler: Reconciler
    background: Background
    # None when FISHHOOK_ARCHIVE_URL=none.
    archiver: Archiver | None = None
    inspector: inspector.Inspector


def _warn_about_open_doors(settings: Settings) -> None:
    if not settings.api_keys:
        log.warning("api_keys_unset", detail="/v1 is open to anyone who can reach this service")
    if settings.acedata_token is None:
        log.warning(
            "acedata_token_unset",
            detail="submits are refused until FISHHOOK_ACEDATA_TOKEN is set",
        )


def _acedata_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> AceDataClient:
    http = httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(
            settings.acedata_read_timeout, connect=settings.acedata_connect_timeout
        ),
        follow_redirects=False,
    )
    return AceDataClient(
        http,
        settings.acedata_base_url,
        settings.acedata_token,
        retry_budget=settings.upstream_retry_budget,
        backoff_base=settings.upstream_backoff_base,
    )


def _start_background(runtime: Runtime) -> None:
    settings, background = runtime.settings, runtime.background
    background.every("reconcile", settings.reconcile_interval, runtime.reconciler.sweep)
    background.every("listen", LISTEN_CHECK_INTERVAL, runtime.waiters.listen)
    if settings.relay_enabled:
        # The relay loop paces itself: run_once waits for a NOTIFY or the interval.
        runtime.waiters.subscribe(runtime.relay.wake)
        background.every("relay", 0, runtime.relay.run_once)
    background.every("metrics_worker", WORKER_METRICS_INTERVAL, lambda: _observe(runtime))
    if runtime.archiver is not None and settings.archive_enabled:
        background.every("archive", 0, runtime.archiver.run_once)
        if settings.archive_delete_with_task:
            background.every(
                "prune_archive", settings.archive_prune_interval, runtime.archiver.prune
            )
    # Paces itself: at most a small share of the time while callbacks arrive.
    background.every("search_index", 0, runtime.inspector.indexer.run_once)
    background.every(
        "metrics_database",
        settings.metrics_refresh_interval,
        lambda: snapshot.refresh(runtime.sessionmaker),
    )
    background.every(
        "prune",
        settings.delivery_prune_interval,
        lambda: retention.prune_all(runtime.sessionmaker, settings),
    )


@contextlib.asynccontextmanager
async def start(
    settings: Settings,
    in_flight: InFlight,
    acedata_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Runtime]:
    """Build the runtime, run its background loops, and on exit close it all in reverse
    (also when startup itself fails half-way)."""
    url = database_url(settings.database_url, settings.data_dir)
    async with contextlib.AsyncExitStack() as stack:
        engine = create_engine(url, settings)
        stack.push_async_callback(engine.dispose)
        sessionmaker = create_sessionmaker(engine)
        resolved = await keys.resolve(settings, sessionmaker)
        acedata = _acedata_client(settings, acedata_transport)
        stack.push_async_callback(acedata.aclose)
        relay_http = relay_client(settings)
        stack.push_async_callback(relay_http.aclose)
        statements = Statements(url, settings.db_read_pool_size, settings.connection_settings)
        await statements.open()
        stack.push_async_callback(statements.close)
        archiver = await _archiver(settings, sessionmaker, stack)
        waiters = Waiters(url)
        stack.push_async_callback(waiters.close)
        await waiters.listen()
        runtime = Runtime(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            reader=create_reader(engine),
            statements=statements,
            reads=Reads(statements, settings.db_read_pool_timeout, settings.public_url),
            keys=resolved,
            acedata=acedata,
            intake=Intake(
                url,
                writers=settings.intake_writers,
                max_batch=settings.intake_max_batch,
                max_waiting=settings.intake_max_waiting,
                server_settings=settings.connection_settings,
            ),
            waiters=waiters,
            relay=Relay(sessionmaker, relay_http, secret_key(resolved.relay_secret), settings),
            reconciler=Reconciler(
                sessionmaker,
                acedata,
                settings,
                SharedPacer(sessionmaker, "acedata_tasks", settings.reconcile_pace),
            ),
            background=Background(),
            archiver=archiver,
            inspector=inspector.build(settings, resolved, waiters, sessionmaker),
        )
        stack.push_async_callback(runtime.background.stop)
        # Callbacks still waiting learn their outcome (or 503), then every request cancelled
        # at the shutdown timeout gets to answer before the rest closes (run first: LIFO).
        stack.push_async_callback(_settle, in_flight)
        stack.push_async_callback(runtime.intake.close)
        _warn_about_open_doors(settings)
        _start_background(runtime)
        yield runtime


async def _observe(runtime: Runtime) -> None:
    worker_metrics.observe(runtime)


async def _archiver(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    stack: contextlib.AsyncExitStack,
) -> Archiver | None:
    storage = open_storage(settings)
    if storage is None:
        log.warning("archive_off", detail="FISHHOOK_ARCHIVE_URL=none: generated audio is not kept")
        return None
    # A partial copy untouched for longer than any copy may take was abandoned by a crash.
    await storage.start(abandoned_after=settings.archive_timeout + LEASE_MARGIN + 60)
    stack.push_async_callback(storage.close)
    http = archive_client(settings)
    stack.push_async_callback(http.aclose)
    log.info("archive_ready", storage=storage.description)
    return Archiver(sessionmaker, http, storage, settings)


async def _settle(in_flight: InFlight) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2):
            await in_flight.settle()
