"""Reading the deliveries log and replaying a stored delivery through callbacks.service.ingest."""

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app import pagination
from app.callbacks import credentials
from app.callbacks.models import Delivery
from app.callbacks.redaction import query_pairs
from app.callbacks.service import Inbound, Receipt, ingest
from app.errors import Conflict, NotFound
from app.pagination import NUL


async def page(
    session: AsyncSession,
    *,
    task_id: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Delivery], str | None]:
    """Newest first; `task_id` is fishhook's task id or AceData's. Ids sort by arrival, so the
    cursor (the last id seen) neither repeats nor skips a delivery."""
    if task_id and NUL in task_id:
        # No stored id can hold one: nothing matches, as for any unknown task id.
        return [], None
    # A page shows summaries: headers and bodies (up to FISHHOOK_MAX_BODY_BYTES each) stay in
    # the database, and reading one by mistake raises instead of loading it row by row.
    query = select(Delivery).options(
        defer(Delivery.headers, raiseload=True), defer(Delivery.body, raiseload=True)
    )
    if task_id:
        query = query.where(or_(Delivery.task_ref == task_id, Delivery.task_id == task_id))
    if outcome:
        query = query.where(Delivery.outcome == outcome)
    if since:
        query = query.where(Delivery.received_at >= since)
    if until:
        query = query.where(Delivery.received_at < until)
    return await pagination.page(session, query, Delivery.id, limit=limit, cursor=cursor)


async def get(session: AsyncSession, delivery_id: str) -> Delivery:
    delivery = None if NUL in delivery_id else await session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r}", code="delivery_not_found")
    return delivery


async def replay(session: AsyncSession, delivery_id: str) -> Receipt:
    """Apply a stored delivery again, exactly as a live one would be (one code path: ingest).

    The stored request passed the credential check when it arrived (its token is not kept),
    so it is replayed as authenticated; one that failed the check is never replayed, so a
    forged callback cannot be turned into a result by replaying it.
    """
    original = await get(session, delivery_id)
    if original.outcome == "unauthenticated":
        raise Conflict(
            "this delivery failed the callback credential check; it cannot be replayed",
            code="replay_refused",
        )
    task_ref = original.task_ref or _task_param(original.query)
    inbound = Inbound(
        source="replay",
        method=original.method,
        query=original.query,
        headers=original.headers,
        body=original.body,
        body_size=original.body_size,
        remote_addr=original.remote_addr,
        replay_of=original.id,
    )
    # ingest commits, which also ends the read above: one unit of work.
    return await ingest(session, inbound, task_ref=task_ref, authenticated=True)


def _task_param(query: str) -> str | None:
    task_ref, _ = credentials.read(query_pairs(query))
    return task_ref
