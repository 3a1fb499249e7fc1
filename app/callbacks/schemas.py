"""How POST /callbacks is described in the OpenAPI document (it is served outside FastAPI's
routing, see main.Fishhook, so its path item is written here by hand)."""

from typing import Any, Literal

from pydantic import BaseModel

from app.callbacks.credentials import TASK_PARAM, TOKEN_PARAM
from app.openapi import problems


class CallbackReceipt(BaseModel):
    """A callback that was stored and applied (or recognised as a duplicate or too late)."""

    delivery_id: str
    outcome: Literal["applied", "duplicate", "late"]


_BODY = {
    "type": "object",
    "description": "AceData's result, as it posts it (parsed leniently; stored byte for byte)",
    "properties": {
        "task_id": {"type": "string"},
        "trace_id": {"type": "string"},
        "success": {"type": "boolean"},
        "data": {},
        "error": {},
    },
    "additionalProperties": True,
}


def _query(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


PATH_ITEM: dict[str, Any] = {
    "post": {
        "tags": ["callbacks"],
        "summary": "Receive an AceData callback",
        "description": (
            "Where AceData posts results. The URL, with its per-task credential, is the "
            "`callback_url` fishhook gives AceData at submit time. Every request is logged in "
            "/v1/deliveries, refused ones included; 2xx only once the delivery is committed."
        ),
        "operationId": "receive_callback",
        "parameters": [
            _query(TASK_PARAM, "fishhook's task id"),
            _query(TOKEN_PARAM, "the task's callback credential (an HMAC of its id)"),
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY}}},
        "responses": {
            "200": {
                "description": "Stored and applied, or a duplicate, or after the task finished",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/CallbackReceipt"}}
                },
            },
            **{str(status): value for status, value in problems(400, 404, 415, 503).items()},
            "401": {"description": "No credential, or a wrong one (invalid_credential)"},
        },
    }
}
