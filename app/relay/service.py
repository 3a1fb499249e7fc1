"""Relay messages in the database: claiming due ones, recording attempts, reading them back."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from app import claims
from app.archive import service as archive
from app.log import get_logger
from app.relay.models import RelayAttempt, RelayMessage
from app.relay.sender import Answer

log = get_logger("fishhook.relay")

# An attempt is never sent twice (app/claims.py). The task's archived files ride along in
# RETURNING: no round trip before the send.
_CLAIM_DUE = text(
    claims.due_sql(
        "relay_messages",
        "m",
        "m.id, m.url, m.task, m.attempts, m.status, m.created_at, "
        f"{archive.files_sql('m.task_ref')} AS archive",
    )
).columns(task=JSONB, archive=JSONB)

_CLAIM_ONE = text(
    f"""
UPDATE relay_messages
SET attempts = attempts + 1, locked_until = now() + make_interval(secs => :lease)
WHERE id = :id AND (locked_until IS NULL OR locked_until <= now())
RETURNING id, url, task, attempts, status, created_at,
    {archive.files_sql("task_ref")} AS archive
"""  # noqa: S608 (built at import from fixed column names)
).columns(task=JSONB, archive=JSONB)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    url: str
    task: dict[str, Any]
    number: int
    status: str  # the message's status when claimed
    created_at: datetime
    manual: bool = False
    # The task's archived files when claimed (app/archive), for the body's `archive`.
    archive: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Policy:
    max_age: float
    delay: float  # before the next attempt, should this one fail


async def claim_due(session: AsyncSession, *, limit: int, lease: float) -> list[Claimed]:
    rows = (await session.execute(_CLAIM_DUE, {"limit": limit, "lease": lease})).all()
    await session.commit()
    return [
        Claimed(r.id, r.url, r.task, r.attempts, r.status, r.created_at, archive=r.archive)
        for r in rows
    ]


async def claim_one(session: AsyncSession, message_id: str, *, lease: float) -> Claimed | None:
    row = (await session.execute(_CLAIM_ONE, {"id": message_id, "lease": lease})).first()
    await session.commit()
    if row is None:
        return None
    return Claimed(
        row.id, row.url, row.task, row.attempts, row.status, row.created_at, True, row.archive
    )


def next_state(claimed: Claimed, answer: Answer, policy: Policy) -> dict[str, Any]:
    """The message's new columns after `answer`."""
    now = datetime.now(UTC)
    if answer.delivered:
        return {"status": "delivered", "delivered_at": now, "last_error": None}
    error = answer.error or f"receiver answered {answer.status_code}"
    if answer.gone:
        return {"status": "dead", "last_error": "receiver answered 410 Gone: not retried"}
    if claimed.manual and claimed.status != "pending":
        # An extra attempt asked for by hand does not revive a delivered or dead message.
        return {"status": claimed.status, "last_error": error}
    next_at = now + timedelta(seconds=policy.delay)
    if next_at > claimed.created_at + timedelta(seconds=policy.max_age):
        return {
            "status": "dead",
            "last_error": f"{error}; gave up after {claimed.number} attempts",
        }
    return {"status": "pending", "next_attempt_at": next_at, "last_error": error}


async def record(
    session: AsyncSession, claimed: Claimed, answer: Answer, policy: Policy, started_at: datetime
) -> RelayAttempt:
    attempt = RelayAttempt(
        message_id=claimed.id,
        number=claimed.number,
        manual=claimed.manual,
        started_at=started_at,
        latency_ms=answer.latency_ms,
        status_code=answer.status_code,
        error=answer.error,
        response_excerpt=answer.excerpt,
    )
    session.add(attempt)
    # Only while this claim is the latest: if the lease ran out and another process claimed
    # the next attempt, that attempt owns the message's state and this one is history only.
    result = await session.execute(
        update(RelayMessage)
        .where(RelayMessage.id == claimed.id, RelayMessage.attempts == claimed.number)
        .values(locked_until=None, **next_state(claimed, answer, policy))
    )
    await session.commit()
    if not getattr(result, "rowcount", 1):
        log.warning("relay_attempt_superseded", message_id=claimed.id, number=claimed.number)
    return attempt


async def messages(
    session: AsyncSession, task_ref: str
) -> list[tuple[RelayMessage, list[RelayAttempt]]]:
    """A task's relay messages, oldest first, each with its attempts (the API and the
    inspector's task page)."""
    found = list(
        await session.scalars(
            select(RelayMessage)
            .where(RelayMessage.task_ref == task_ref)
            .order_by(RelayMessage.created_at, RelayMessage.id)
            .execution_options(populate_existing=True)
        )
    )
    attempts: list[RelayAttempt] = []
    if found:  # no message, no attempt: spare the round trip
        attempts = list(
            await session.scalars(
                select(RelayAttempt)
                .where(RelayAttempt.message_id.in_([m.id for m in found]))
                .order_by(RelayAttempt.number)
            )
        )
    await session.commit()
    return [(m, [a for a in attempts if a.message_id == m.id]) for m in found]


async def latest(session: AsyncSession, task_ref: str) -> RelayMessage | None:
    message = await session.scalar(
        select(RelayMessage)
        .where(RelayMessage.task_ref == task_ref)
        .order_by(RelayMessage.created_at.desc(), RelayMessage.id.desc())
        .limit(1)
    )
    await session.commit()
    return message
