"""/v1/deliveries: every request that reached /callbacks, one by one, and replay."""

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from app.deliveries import service
from app.deliveries.schemas import DeliveryDetail, DeliveryOut, DeliveryPage, ReplayOut
from app.deps import ApiKeyDep, ReaderDep, SessionDep
from app.openapi import problems
from app.pagination import PageDep
from app.vocabulary import Outcome


def _iso_8601(value: object) -> object:
    # pydantic would read "18" as Unix seconds; the README promises ISO 8601 times.
    if isinstance(value, str) and not re.match(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be an ISO 8601 time, such as 2026-11-30T10:00:00Z")
    return value


IsoTime = Annotated[
    datetime | None,
    BeforeValidator(_iso_8601),
    Query(description="ISO 8601; a time without an offset is read as UTC"),
]

router = APIRouter(
    prefix="/v1", tags=["deliveries"], dependencies=[ApiKeyDep], responses=problems(400, 503)
)


@router.get("/deliveries")
async def list_deliveries(
    session: ReaderDep,
    task_id: Annotated[str | None, Query(max_length=200)] = None,
    outcome: Outcome | None = None,
    since: IsoTime = None,
    until: IsoTime = None,
    *,
    listing: PageDep,
) -> DeliveryPage:
    deliveries, next_cursor = await service.page(
        session,
        task_id=task_id,
        outcome=outcome,
        since=since,
        until=until,
        limit=listing.limit,
        cursor=listing.cursor,
    )
    return DeliveryPage(items=[DeliveryOut.of(d) for d in deliveries], next_cursor=next_cursor)


@router.get("/deliveries/{delivery_id}", responses=problems(404))
async def read_delivery(delivery_id: str, session: ReaderDep) -> DeliveryDetail:
    return DeliveryDetail.of(await service.get(session, delivery_id))


@router.post("/deliveries/{delivery_id}/replay", responses=problems(404, 409))
async def replay_delivery(delivery_id: str, session: SessionDep) -> ReplayOut:
    receipt = await service.replay(session, delivery_id)
    return ReplayOut(
        delivery_id=receipt.delivery_id,
        outcome=receipt.outcome,
        task_ref=receipt.task_ref,
        replay_of=delivery_id,
    )
