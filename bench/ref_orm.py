"""Reference receiver 2: what a team would hand-write with the SQLAlchemy ORM (load, update, commit)."""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy import DateTime, Text, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine(os.environ["BENCH_DATABASE_URL"], pool_size=10, max_overflow=0)
sessionmaker = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class RefTask(Base):
    __tablename__ = "ref_orm_tasks"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    task_id: Mapped[str] = mapped_column(Text, unique=True)
    status: Mapped[str] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


app = FastAPI()


@app.post("/callback")
async def callback(
    request: Request, session: Annotated[AsyncSession, Depends(get_session)]
) -> dict[str, bool]:
    payload = await request.json()
    task = await session.scalar(select(RefTask).where(RefTask.task_id == payload["task_id"]))
    if task is None:
        raise HTTPException(404)
    if task.status != "succeeded":
        task.status = "succeeded"
        task.result = payload
        task.finished_at = datetime.now(UTC)
        await session.commit()
    return {"ok": True}
