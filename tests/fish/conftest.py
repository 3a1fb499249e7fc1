"""/fish tests: over ASGI (relays allowed to the local receiver), and end to end with AceData's
own clients against a real `fishhook serve` and the simulator, started once for the package."""

from collections.abc import Iterator

import pytest

from app.config import Settings
from tests.support.dropin import API_KEY, Target
from tests.support.processes import SIMULATOR_TOKEN, Service, service, simulator
from tests.support.relay import FAST_RELAY, QUICK_RELAYS


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={**QUICK_RELAYS, "fish_wait_timeout": 5.0})


@pytest.fixture(scope="package")
def simulator_url() -> Iterator[str]:
    with simulator(delay=0.1) as url:
        yield url


@pytest.fixture(scope="package")
def fishhook(database_url: str, simulator_url: str) -> Iterator[Service]:
    with service(database_url, simulator_url, api_keys=API_KEY, **FAST_RELAY) as svc:
        yield svc


@pytest.fixture(params=["fishhook", "simulator"])
def target(request: pytest.FixtureRequest, simulator_url: str) -> Target:
    if request.param == "simulator":
        return Target(simulator_url, SIMULATOR_TOKEN, None)
    svc: Service = request.getfixturevalue("fishhook")
    return Target(svc.url, API_KEY, svc)
