"""Dependencies shared by the routers, as Annotated aliases."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.acedata.client import AceDataClient
from app.api_keys import require_api_key
from app.config import Settings
from app.db import get_reader, get_session
from app.relay.worker import Relay
from app.tasks.waiting import Waiters


@dataclass(frozen=True, slots=True)
class Keys:
    """Secrets resolved at startup: from settings, or generated once and kept in the database."""

    callback_secret: bytes
    relay_secret: str


def _state(name: str) -> Callable[[Request], Awaitable[Any]]:
    # Async on purpose: FastAPI runs a plain `def` dependency in a thread pool.
    async def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    return get


SessionDep = Annotated[AsyncSession, Depends(get_session)]
# For a request that writes nothing: one round trip per statement (see create_reader).
ReaderDep = Annotated[AsyncSession, Depends(get_reader)]
SettingsDep = Annotated[Settings, Depends(_state("settings"))]
AceDataDep = Annotated[AceDataClient, Depends(_state("acedata"))]
KeysDep = Annotated[Keys, Depends(_state("keys"))]
ApiKeyDep = Depends(require_api_key)
RelayDep = Annotated[Relay, Depends(_state("relay"))]
WaitersDep = Annotated[Waiters, Depends(_state("waiters"))]
