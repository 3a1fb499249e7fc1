"""End-to-end fixtures: the simulator and the service as real processes on the test database."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.support.database import empty_tables
from tests.support.processes import Service, service, simulator


@pytest.fixture(scope="module")
def simulator_url() -> Iterator[str]:
    with simulator(delay=0.2) as url:
        yield url


@pytest.fixture
async def sim(simulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the simulator, reset before each test (its rules, jobs and recordings)."""
    async with httpx.AsyncClient(base_url=simulator_url, timeout=10) as client:
        await client.post("/_sim/reset")
        yield client


@pytest.fixture(scope="module")
def running_service(database_url: str, simulator_url: str) -> Iterator[Service]:
    with service(database_url, simulator_url) as svc:
        yield svc


@pytest.fixture
async def api(running_service: Service, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running_service.url, timeout=30) as client:
        yield client
    await empty_tables(database_url)
