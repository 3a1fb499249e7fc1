"""/fish tests: over ASGI (relays allowed to the local receiver), and end to end with AceData's
own clients against a real `fishhook serve` and the simulator, started once for the package."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from acedatacloud import AsyncAceDataCloud

from app.config import Settings
from tests.e2e.processes import SIMULATOR_TOKEN, Service, service, simulator
from tests.e2e.relay_support import FAST_RELAY
from tests.receiver import Receiver, serve


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "relay_allow_private": True,
            "relay_interval": 0.02,
            "relay_backoff_base": 0.02,
            "relay_backoff_max": 0.1,
            "fish_wait_timeout": 5.0,
        }
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve(Receiver()) as running:
        yield running


API_KEY = "fish-e2e-key-0123456789abcdef"
# The SDK polls /fish/tasks every `poll_interval` seconds (3 by default): its own argument.
POLL = 0.05
AUDIO = "https://platform.r2.fish.audio/task/"
VOICE_SAMPLE = "https://cdn.example.com/sample.mp3"


@dataclass(frozen=True)
class Target:
    url: str
    token: str
    fishhook: Service | None  # None: the SDK talks to the simulator directly

    def client(self, token: str | None = None) -> AsyncAceDataCloud:
        # No SDK retries: an error must surface at once, not after its backoff.
        return AsyncAceDataCloud(token or self.token, base_url=self.url, max_retries=0)


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
