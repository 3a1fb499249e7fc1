"""Archive fixtures: the media server, and the service set to copy from it quickly."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.archive.support import Media, media_server


@pytest.fixture
async def media() -> AsyncIterator[Media]:
    async with media_server() as server:
        yield server


def quick(media: Media, **changes: Any) -> dict[str, Any]:
    """Settings for tests: the media server is on loopback, retries come fast."""
    return {
        "relay_allow_private": True,
        "archive_interval": 0.05,
        "archive_backoff_base": 0.05,
        "archive_timeout": 5.0,
        "archive_media_base_url": media.url,
        **changes,
    }


@pytest.fixture
async def archive_client(serve: Any, media: Media) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(**quick(media)) as (_app, client):
        yield client
