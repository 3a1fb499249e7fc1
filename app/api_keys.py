"""API keys for /v1 (FISHHOOK_API_KEYS): a Bearer token compared in constant time."""

import hmac

from fastapi import Request

from app.config import Settings
from app.errors import Unauthorized


async def require_api_key(request: Request) -> None:
    settings: Settings = request.app.state.settings
    if not settings.api_keys:
        return
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and presented:
        given = presented.strip().encode()
        # Check every key so the time taken does not tell which one nearly matched.
        matches = [
            hmac.compare_digest(given, k.get_secret_value().encode()) for k in settings.api_keys
        ]
        if any(matches):
            return
    raise Unauthorized(
        "this endpoint needs Authorization: Bearer <API key>",
        code="invalid_api_key",
        headers={"WWW-Authenticate": "Bearer"},
    )
