"""/v1/deliveries: every request that reached /callbacks, one by one, and replay."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.deliveries import service
from app.deliveries.schemas import DeliveryDetail, DeliveryOut, DeliveryPage, IsoTime, ReplayOut
from app.deps import ApiKeyDep, ReaderDep, SessionDep
from app.openapi import problems
from app.pagination import PageDep
from app.vocabulary import Outcome

router = APIRouter(
    prefix="/v1", tags=["deliveries"], dependencies=[ApiKeyDep], responses=problems(400, 503)
)


@router.get("/deliveries")
async def list_deliveries(
    session: ReaderDep,
    task_id: Annotated[str | None, Query(max_length=200)] = None,
    outcome: Outcome | None = None,
    since: IsoTime | None = None,
    until: IsoTime | None = None,
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
