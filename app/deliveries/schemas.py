"""What the deliveries API answers: a summary per delivery, and the full record with its body."""

import base64
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.callbacks.models import Delivery


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
