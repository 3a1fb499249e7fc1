"""What GET /v1/tasks/{id}/relays and POST /v1/tasks/{id}/relay answer."""

from datetime import datetime

from pydantic import BaseModel

from app.relay.models import RelayAttempt, RelayMessage


class RelayAttemptOut(BaseModel):
    number: int
    manual: bool
    started_at: datetime
    latency_ms: int
    status_code: int | None
    error: str | None
    response_excerpt: str | None


class RelayMessageOut(BaseModel):
    id: str  # the webhook-id header of every attempt
    url: str
    event: str
    status: str  # pending | delivered | dead
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempts: list[RelayAttemptOut]

    @classmethod
    def of(cls, message: RelayMessage, attempts: list[RelayAttempt]) -> "RelayMessageOut":
        return cls(
            id=message.id,
            url=message.url,
            event=message.event,
            status=message.status,
            next_attempt_at=message.next_attempt_at if message.status == "pending" else None,
            last_error=message.last_error,
            created_at=message.created_at,
            delivered_at=message.delivered_at,
            attempts=[RelayAttemptOut.model_validate(a, from_attributes=True) for a in attempts],
        )


class RelayList(BaseModel):
    items: list[RelayMessageOut]
