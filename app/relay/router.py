"""/v1/tasks/{task_ref}/relays (messages and attempts) and .../relay (send again now)."""

from fastapi import APIRouter

from app.deps import ApiKeyDep, ReaderDep, RelayDep, SessionDep
from app.errors import Conflict
from app.openapi import problems
from app.relay import service
from app.relay.schemas import RelayList, RelayMessageOut
from app.tasks import service as tasks

router = APIRouter(
    prefix="/v1", tags=["relay"], dependencies=[ApiKeyDep], responses=problems(400, 404, 503)
)


@router.get("/tasks/{task_ref}/relays")
async def list_relays(task_ref: str, session: ReaderDep) -> RelayList:
    task = await tasks.get(session, task_ref)
    found = await service.messages(session, task.id)
    return RelayList(items=[RelayMessageOut.of(m, a) for m, a in found])


@router.post("/tasks/{task_ref}/relay", responses=problems(409))
async def relay_again(task_ref: str, session: SessionDep, relay: RelayDep) -> RelayMessageOut:
    """Send the task's latest message again now: a new attempt with the same webhook-id."""
    task = await tasks.get(session, task_ref)
    message = await service.latest(session, task.id)
    if message is None:
        raise Conflict(
            "this task has nothing to relay: it has no callback_url or has not finished",
            code="nothing_to_relay",
        )
    if await relay.resend(message.id) is None:
        raise Conflict(
            "an attempt to relay this message is in flight; retry shortly",
            code="relay_in_flight",
            headers={"Retry-After": "1"},
        )
    found = dict((m.id, (m, a)) for m, a in await service.messages(session, task.id))
    return RelayMessageOut.of(*found[message.id])
