"""Pacers: one row per upstream rate that every process and worker sharing the database obeys."""

from datetime import datetime

from sqlalchemy import Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class PacerSlot(Base):
    __tablename__ = "pacers"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    # No call under this name may start before this time (PostgreSQL's clock).
    next_allowed_at: Mapped[datetime] = mapped_column(server_default=func.now())
