"""Statements against the test server: creating and dropping databases, emptying tables."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def run_admin(url: str, statement: str) -> None:
    """Run `statement` outside a transaction (CREATE DATABASE, DROP DATABASE)."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


async def empty_tables(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "TRUNCATE tasks, deliveries, idempotency_keys, relay_messages, relay_attempts,"
                " pacers,"
                " archive_files, delivery_search, delivery_search_backlog"
            )
        )
    await engine.dispose()
