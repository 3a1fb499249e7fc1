"""The tasks table."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from app.db import Base, one_of
from app.vocabulary import TaskKind, TaskStatus


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(one_of("kind", TaskKind), name="kind"),
        CheckConstraint(one_of("status", TaskStatus), name="status"),
        Index(None, "status", "id"),
        Index(None, "trace_id"),  # the inspector finds a task by AceData's trace_id
        # Reconciliation's claim: only open tasks are indexed, so the index stays small.
        Index(
            None,
            "next_check_at",
            postgresql_where=text("status IN ('pending', 'submitted')"),
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    # AceData's id; unique so that a callback can only ever finish one task.
    task_id: Mapped[str | None] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    input: Mapped[dict[str, Any]]
    output: Mapped[dict[str, Any] | None]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[dict[str, Any] | None]
    trace_id: Mapped[str | None] = mapped_column(Text)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    # The AceData endpoint a drop-in client called on /fish/* (tts, voices, audios, model):
    # its webhook then gets AceData's own callback body, not the Task. Null for /v1 tasks.
    fish_api: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    # Reconciliation: when to ask /fish/tasks next, and how many times it was asked already
    # (the backoff grows with it). Set to acceptance + RECONCILE_AFTER when AceData accepts
    # the job; null until then, and a null is never looked up (there is no AceData id to
    # ask about): the sweep expires a task left pending instead.
    next_check_at: Mapped[datetime | None]
    checks: Mapped[int] = mapped_column(server_default=text("0"))
    # How many deliveries name this task; loaded only by reads that ask (tasks.service).
    deliveries: Mapped[int | None] = query_expression()
    # The task's archived files (app/archive); loaded only by reads that ask.
    archive: Mapped[list[dict[str, Any]] | None] = query_expression()
