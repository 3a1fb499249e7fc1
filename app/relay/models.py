"""The relay outbox: one message per task that finished with a callback_url, and its attempts.

Messages are not written by Python code: the `tasks_finished` trigger (migration 0004)
inserts one in the same transaction that moves a task to a terminal status, whichever
path finished it (callback, replay, reconciliation, expiry), and NOTIFYs `fishhook_tasks`
for long-polling. A task that expired and later succeeds gets a second message.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, one_of
from app.vocabulary import MessageStatus


class RelayMessage(Base):
    __tablename__ = "relay_messages"
    __table_args__ = (
        CheckConstraint(one_of("status", MessageStatus), name="status"),
        Index(None, "task_ref"),
        # The relay loop's claim: due pending messages, oldest first.
        Index(
            "ix_relay_messages_due",
            "next_attempt_at",
            postgresql_where="status = 'pending'",
        ),
        # Retention's prune: finished messages, oldest first.
        Index(
            "ix_relay_messages_finished",
            "created_at",
            postgresql_where="status IN ('delivered', 'dead')",
        ),
    )

    # Also the `webhook-id` header: stable across every attempt of this message.
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    task_ref: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    # The task status this message announces (succeeded, failed, expired).
    event: Mapped[str] = mapped_column(Text)
    # The task row as it was when it finished: every attempt sends the same body.
    task: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Set while an attempt is in flight, so no other process claims the message; a process
    # that dies mid-attempt leaves it due again once this passes.
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    delivered_at: Mapped[datetime | None]


class RelayAttempt(Base):
    __tablename__ = "relay_attempts"
    __table_args__ = (Index(None, "message_id", "number", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[str] = mapped_column(
        Text, ForeignKey("relay_messages.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    manual: Mapped[bool] = mapped_column(server_default="false")
    started_at: Mapped[datetime]
    latency_ms: Mapped[int]
    # None when no answer came (timeout, refused connection, unsafe address).
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The first bytes of the receiver's answer, for debugging its side.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
