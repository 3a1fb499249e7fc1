"""Dependencies shared by the routers, as Annotated aliases over the typed runtime."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.acedata.client import AceDataClient
from app.config import Settings
from app.keys import Keys, require_api_key
from app.relay.worker import Relay
from app.runtime import Runtime
from app.tasks.waiting import Waiters


# Every dependency here is async on purpose: FastAPI runs a plain `def` one in a thread pool.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One session per request. Services commit themselves; nothing commits after yield."""
    async with runtime.sessionmaker() as session:
        yield session


async def get_reader(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A session for a request that writes nothing: one round trip per statement (see
    db.create_reader)."""
    async with runtime.reader() as session:
        yield session


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


async def get_acedata(runtime: RuntimeDep) -> AceDataClient:
    return runtime.acedata


async def get_keys(runtime: RuntimeDep) -> Keys:
    return runtime.keys


async def get_relay(runtime: RuntimeDep) -> Relay:
    return runtime.relay


async def get_waiters(runtime: RuntimeDep) -> Waiters:
    return runtime.waiters


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReaderDep = Annotated[AsyncSession, Depends(get_reader)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AceDataDep = Annotated[AceDataClient, Depends(get_acedata)]
KeysDep = Annotated[Keys, Depends(get_keys)]
ApiKeyDep = Depends(require_api_key)
RelayDep = Annotated[Relay, Depends(get_relay)]
WaitersDep = Annotated[Waiters, Depends(get_waiters)]
