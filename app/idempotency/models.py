"""The idempotency_keys table: which task each Idempotency-Key created, and for which request."""

from datetime import datetime

from sqlalchemy import Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    # The primary key makes two simultaneous first uses of a key collide in the database.
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    # sha256 of the request (kind, body, engine header): same key + another request is 409.
    fingerprint: Mapped[str] = mapped_column(Text)
    task_ref: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
