"""Alembic environment: async engine from the URL the caller passes (see app/migrate.py)."""

import asyncio

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.archive.models
import app.callbacks.models
import app.idempotency.models
import app.inspector.models
import app.keys
import app.reconcile.models
import app.relay.models
import app.tasks.models  # noqa: F401  (registers the tables on Base.metadata)
from app.db import Base

target_metadata = Base.metadata


# Several processes may start at once (replicas, workers): one migrates, the others wait.
_MIGRATION_LOCK = 0x666973686B  # "fishk"


# Made by migrations only where the pg_trgm extension exists; not in the models.
_UNDECLARED_INDEXES = frozenset({"ix_deliveries_body_trgm", "ix_delivery_search_body_trgm"})


def _include(obj: object, name: str | None, kind: str, reflected: bool, _: object) -> bool:
    return not (kind == "index" and reflected and name in _UNDECLARED_INDEXES)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


url = context.config.attributes.get("database_url") or context.config.get_main_option(
    "sqlalchemy.url"
)
if context.is_offline_mode():
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online(url))
