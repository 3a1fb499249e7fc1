"""What the dashboard shows: the counts /metrics reads, and the newest tasks and deliveries.

Only the columns the page prints are read: never a raw body, a result, a callback URL.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.callbacks.models import Delivery
from app.metrics.service import Counts, counts
from app.tasks.models import Task

NEWEST = 50
LABEL_CHARS = 80


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: str
    kind: str
    status: str
    label: str | None  # a voice's title or the start of a speech's text: client input
    task_id: str | None
    created_at: datetime
    finished_at: datetime | None
    error_code: str | None  # from AceData's body: untrusted


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: str
    received_at: datetime
    outcome: str
    source: str
    task_ref: str | None
    task_id: str | None
    body_size: int


@dataclass(frozen=True, slots=True)
class Overview:
    counts: Counts
    tasks: list[TaskRow]
    deliveries: list[DeliveryRow]


async def overview(session: AsyncSession) -> Overview:
    totals = await counts(session)
    tasks = await session.execute(
        select(
            Task.id,
            Task.kind,
            Task.status,
            func.left(
                func.coalesce(Task.input["title"].astext, Task.input["text"].astext), LABEL_CHARS
            ),
            Task.task_id,
            Task.created_at,
            Task.finished_at,
            Task.error["code"].astext,
        )
        .order_by(Task.id.desc())
        .limit(NEWEST)
    )
    deliveries = await session.execute(
        select(
            Delivery.id,
            Delivery.received_at,
            Delivery.outcome,
            Delivery.source,
            Delivery.task_ref,
            Delivery.task_id,
            Delivery.body_size,
        )
        .order_by(Delivery.id.desc())
        .limit(NEWEST)
    )
    await session.rollback()
    return Overview(
        counts=totals,
        tasks=[TaskRow(*row) for row in tasks],
        deliveries=[DeliveryRow(*row) for row in deliveries],
    )
