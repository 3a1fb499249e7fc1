"""Relay tests: fast retry settings, private addresses allowed (the receiver is local)."""

import pytest

from app.config import Settings
from tests.support.relay import QUICK_RELAYS


@pytest.fixture
def settings(settings: Settings) -> Settings:
    changes = {**QUICK_RELAYS, "relay_max_age": 60.0, "relay_timeout": 2.0}
    return settings.model_copy(update=changes)
