"""/fish tests over ASGI: relays allowed to the local receiver, quick ones."""

from collections.abc import AsyncIterator

import pytest

from app.config import Settings
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
