"""The last line of defence: a value PostgreSQL refuses is a 400 problem that quotes nothing."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.errors import install_error_handlers

SECRET_VALUE = "value-that-must-not-leak"


@pytest.fixture
async def refusing_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_async_engine(database_url)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/store")
    async def store() -> None:
        async with engine.connect() as conn:
            # PostgreSQL's jsonb refuses U+0000: a DataError from asyncpg.
            await conn.execute(
                text("SELECT CAST(:value AS jsonb)"), {"value": f'"{SECRET_VALUE}\\u0000"'}
            )

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await engine.dispose()


async def test_a_value_the_database_refuses_is_400_invalid_input_without_sql(refusing_client):
    answer = await refusing_client.get("/store")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "invalid_input"
    assert SECRET_VALUE not in answer.text
    assert "SELECT" not in answer.text and "jsonb" not in answer.text


async def test_a_database_that_is_shutting_down_is_503_not_500(database_url):
    engine = create_async_engine(database_url)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/read")
    async def read() -> None:
        async with engine.connect() as conn:
            # What a server on its way down answers (cannot_connect_now), raised on demand.
            await conn.execute(
                text("DO $$ BEGIN RAISE EXCEPTION 'shutting down' USING ERRCODE = '57P03'; END $$")
            )

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/read")
    await engine.dispose()
    assert answer.status_code == 503
    assert answer.json()["code"] == "database_unavailable"
    assert answer.headers["retry-after"] == "1"
