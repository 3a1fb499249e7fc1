"""A plain engine on the test database, for tests of the apply statement and the intake."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


@pytest.fixture
async def engine(database_url):
    engine = create_async_engine(database_url)
    yield engine
    async with engine.begin() as conn:
        await conn.execute(
            text("TRUNCATE tasks, deliveries, delivery_search, delivery_search_backlog")
        )
    await engine.dispose()
