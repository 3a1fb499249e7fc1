"""Archive fixtures: the media server, and the service set to copy from it quickly."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.archive import Media, media_server, quick


@pytest.fixture
async def media() -> AsyncIterator[Media]:
    async with media_server() as server:
        yield server


@pytest.fixture
async def archive_client(serve: Any, media: Media) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(**quick(media)) as (_app, client):
        yield client
