"""What the deliveries API answers: a summary per delivery, and the full record with its body."""

import base64
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator

from app.callbacks.models import Delivery

# A calendar date first (2026-11-30, 20261130): a bare number is no ISO 8601 time.
_ISO_DATE = re.compile(r"\d{4}-?\d{2}-?\d{2}")


def _iso_8601(value: object) -> object:
    """An ISO 8601 date or time, UTC when it names no offset; anything else (Unix seconds
    such as `18`, which pydantic would read) is refused."""
    if not isinstance(value, str):
        return value
    if not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 date or time, such as 2026-11-30T12:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date or time, such as 2026-11-30T12:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


IsoTime = Annotated[datetime, BeforeValidator(_iso_8601)]


class DeliveryOut(BaseModel):
    id: str
    received_at: datetime
    source: str
    remote_addr: str | None
    method: str
    query: str
    body_size: int
    task_id: str | None
    task_ref: str | None
    outcome: str
    detail: str | None
    replay_of: str | None

    @classmethod
    def of(cls, delivery: Delivery) -> "DeliveryOut":
        return cls.model_validate(delivery, from_attributes=True)


class DeliveryDetail(DeliveryOut):
    headers: dict[str, Any]
    # The raw body as text, byte for byte, when it is valid UTF-8; otherwise body_base64.
    # Both null when the body was over the size limit and was not kept.
    body: str | None
    body_base64: str | None

    @classmethod
    def of(cls, delivery: Delivery) -> "DeliveryDetail":
        text: str | None = None
        encoded: str | None = None
        if delivery.body is not None:
            try:
                text = delivery.body.decode("utf-8")
            except UnicodeDecodeError:
                encoded = base64.b64encode(delivery.body).decode()
        summary = DeliveryOut.of(delivery).model_dump()
        return cls(**summary, headers=delivery.headers, body=text, body_base64=encoded)


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class ReplayOut(BaseModel):
    """The new delivery a replay made, and what became of it."""

    delivery_id: str
    outcome: str
    task_ref: str | None
    replay_of: str
