"""Relay tests: fast retry settings, private addresses allowed (the receiver is local)."""

from collections.abc import AsyncIterator

import pytest

from app.config import Settings
from tests.support.receiver import Receiver, serve


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "relay_allow_private": True,
            "relay_interval": 0.02,
            "relay_backoff_base": 0.02,
            "relay_backoff_max": 0.1,
            "relay_max_age": 60.0,
            "relay_timeout": 2.0,
        }
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve(Receiver()) as running:
        yield running
