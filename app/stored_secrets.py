"""Secrets fishhook generates once and keeps in the database, shared by every process."""

import secrets

from sqlalchemy import Text, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class StoredSecret(Base):
    __tablename__ = "stored_secrets"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


async def get_or_create(session: AsyncSession, name: str, make: str | None = None) -> str:
    """The stored value of `name`; the first process to ask stores a fresh one."""
    fresh = make if make is not None else secrets.token_urlsafe(32)
    await session.execute(
        insert(StoredSecret).values(name=name, value=fresh).on_conflict_do_nothing()
    )
    value = await session.scalar(select(StoredSecret.value).where(StoredSecret.name == name))
    await session.commit()
    assert value is not None
    return value
