"""The database: declarative Base (with constraint names), engine and session factory."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from app.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONB, datetime: DateTime(timezone=True)}


# For every connection fishhook opens: the pool's, and the intake's and LISTEN's own.
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 30.0


def one_of(column: str, values: Iterable[str]) -> str:
    """A CHECK constraint's text: `column` holds one of `values` (the members of a StrEnum)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    # No pool_pre_ping: it would cost a round trip on every request. A connection that
    # died with the server is invalidated by SQLAlchemy on first use (that request gets
    # a 503 with Retry-After) and the pool reconnects by itself.
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=3600,
        connect_args={
            "timeout": CONNECT_TIMEOUT,
            "command_timeout": COMMAND_TIMEOUT,
            "server_settings": settings.connection_settings,
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def create_reader(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read: each statement runs on its own, without
    BEGIN and ROLLBACK around it, so a read costs one round trip instead of three. Same
    pool; the connection's isolation level is put back when it returns to the pool."""
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))
