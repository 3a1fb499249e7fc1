"""The deliveries table: every request that reached /callbacks, kept as received."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, LargeBinary, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, one_of
from app.vocabulary import Outcome


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(one_of("outcome", Outcome), name="outcome"),
        Index(None, "task_ref"),
        # The deliveries log is filtered by AceData's id and pruned by age.
        Index(None, "task_id"),
        Index(None, "received_at"),
        # The inspector's search in bodies is indexed apart, in the background: see
        # app/inspector/models.py.
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    source: Mapped[str] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]]
    # Bytes exactly as received (None when the body was over the size limit).
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_size: Mapped[int]
    # The top-level task_id the body named (AceData's id), whatever became of it.
    task_id: Mapped[str | None] = mapped_column(Text)
    # The fishhook task the request was matched to.
    task_ref: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    # For source "replay": the stored delivery that was applied again.
    replay_of: Mapped[str | None] = mapped_column(Text)
