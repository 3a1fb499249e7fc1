"""Dependencies shared by the routers, as Annotated aliases."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.acedata.client import AceDataClient
from app.api_keys import require_api_key
from app.config import Settings
from app.db import get_session
from app.relay.worker import Relay
from app.tasks.waiting import Waiters


@dataclass(frozen=True, slots=True)
class Keys:
    """Secrets resolved at startup: from settings, or generated once and kept in the database."""

    callback_secret: bytes
    relay_secret: str


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _acedata(request: Request) -> AceDataClient:
    client: AceDataClient = request.app.state.acedata
    return client


def _keys(request: Request) -> Keys:
    keys: Keys = request.app.state.keys
    return keys


def _relay(request: Request) -> Relay:
    relay: Relay = request.app.state.relay
    return relay


def _waiters(request: Request) -> Waiters:
    waiters: Waiters = request.app.state.waiters
    return waiters


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]
AceDataDep = Annotated[AceDataClient, Depends(_acedata)]
KeysDep = Annotated[Keys, Depends(_keys)]
ApiKeyDep = Depends(require_api_key)
RelayDep = Annotated[Relay, Depends(_relay)]
WaitersDep = Annotated[Waiters, Depends(_waiters)]
