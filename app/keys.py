"""fishhook's own secrets: the callback and relay keys (from settings, or generated once and
kept in the database for every process to share), and the API keys that guard /v1."""

import base64
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Text, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from app.config import Settings
from app.db import Base
from app.errors import Unauthorized


class StoredSecret(Base):
    __tablename__ = "stored_secrets"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class Keys:
    """Secrets resolved at startup."""

    callback_secret: bytes
    relay_secret: str


async def get_or_create(session: AsyncSession, name: str, make: str | None = None) -> str:
    """The stored value of `name`; the first process to ask stores a fresh one."""
    fresh = make if make is not None else secrets.token_urlsafe(32)
    await session.execute(
        insert(StoredSecret).values(name=name, value=fresh).on_conflict_do_nothing()
    )
    value = await session.scalar(select(StoredSecret.value).where(StoredSecret.name == name))
    await session.commit()
    assert value is not None
    return value


def new_relay_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def resolve(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> Keys:
    """Each secret from its setting, else the one kept in the database."""
    async with sessionmaker() as session:
        callback_secret = (
            settings.callback_secret.get_secret_value()
            if settings.callback_secret
            else await get_or_create(session, "callback_secret")
        )
        relay_secret = (
            settings.relay_secret.get_secret_value()
            if settings.relay_secret
            else await get_or_create(session, "relay_secret", new_relay_secret())
        )
    return Keys(callback_secret=callback_secret.encode(), relay_secret=relay_secret)


def api_key_matches(settings: Settings, authorization: str | None) -> bool:
    """Whether an `Authorization: Bearer <key>` value names one of FISHHOOK_API_KEYS."""
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return False
    given = presented.strip().encode()
    # Check every key so the time taken does not tell which one nearly matched.
    matches = [hmac.compare_digest(given, k.get_secret_value().encode()) for k in settings.api_keys]
    return any(matches)


# Declares the bearer scheme in the OpenAPI document; the header is checked below, so a
# missing or malformed one is the same 401 problem+json as a wrong key.
_BEARER = HTTPBearer(auto_error=False, description="One of FISHHOOK_API_KEYS")


async def require_api_key(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> None:
    """The dependency that guards /v1: open when no API keys are set."""
    check_api_key(request.app.state.runtime.settings, request.headers.get("authorization"))


def check_api_key(settings: Settings, authorization: str | None) -> None:
    """Raise the 401 unless no API keys are set or `authorization` names one."""
    if not settings.api_keys or api_key_matches(settings, authorization):
        return
    raise Unauthorized(
        "this endpoint needs Authorization: Bearer <API key>",
        code="invalid_api_key",
        headers={"WWW-Authenticate": "Bearer"},
    )
